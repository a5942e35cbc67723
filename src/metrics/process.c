/* SPDX-License-Identifier: MIT */
/*
 * The standard process_* families every Prometheus client library exports,
 * read from /proc/self and getrusage()/getrlimit() at render time, so
 * dashboards built for other exporters work for hale unchanged. A reading
 * that fails renders as NaN rather than a made-up number.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/metrics.h"

static double process_cpu_seconds(void *data)
{
    (void)data;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return NAN;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Field 0 of /proc/self/statm is the virtual size, field 1 the resident set, in pages. */
static double statm_bytes(int field)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return NAN;
    unsigned long long pages[2];
    int n = fscanf(f, "%llu %llu", &pages[0], &pages[1]);
    fclose(f);
    if (n != 2)
        return NAN;
    return (double)pages[field] * (double)sysconf(_SC_PAGESIZE);
}

static double process_virtual_bytes(void *data)
{
    (void)data;
    return statm_bytes(0);
}

static double process_resident_bytes(void *data)
{
    (void)data;
    return statm_bytes(1);
}

static double process_open_fds(void *data)
{
    (void)data;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return NAN;
    double n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* not the descriptor opendir() itself holds */
}

static double process_max_fds(void *data)
{
    (void)data;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return NAN;
    return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

/* The boot time, from the "btime" line of /proc/stat. */
static double boot_time_seconds(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return NAN;
    char line[256];
    double btime = NAN;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "btime %llu", &v) == 1) {
            btime = (double)v;
            break;
        }
    }
    fclose(f);
    return btime;
}

/*
 * Field 22 of /proc/self/stat is the start time in clock ticks after boot.
 * The command name (field 2) may hold spaces and parentheses, so fields
 * are counted from the last ')'.
 */
static double process_start_seconds(void)
{
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return NAN;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return NAN;
    p++;
    for (int field = 3; field <= 22 && p; field++) {
        p += strspn(p, " ");
        if (field == 22)
            return boot_time_seconds() + strtod(p, NULL) / (double)sysconf(_SC_CLK_TCK);
        p = strchr(p, ' ');
    }
    return NAN;
}

void metrics_process_register(struct metrics *m)
{
    metrics_counter_fn_register(m, "process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds.",
                                process_cpu_seconds, NULL);
    metrics_gauge_fn_register(m, "process_resident_memory_bytes", "Resident memory size in bytes.",
                              process_resident_bytes, NULL);
    metrics_gauge_fn_register(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              process_virtual_bytes, NULL);
    metrics_gauge_fn_register(m, "process_open_fds", "Number of open file descriptors.",
                              process_open_fds, NULL);
    metrics_gauge_fn_register(m, "process_max_fds", "Maximum number of open file descriptors.",
                              process_max_fds, NULL);
    struct metrics_family *start =
            metrics_gauge_register(m, "process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.", NULL);
    metrics_gauge_set(start, NULL, process_start_seconds());
}
