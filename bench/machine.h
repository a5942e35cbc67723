/* SPDX-License-Identifier: MIT */
/*
 * The machine a benchmark program ran on, for the first lines of its
 * report: its cores, its CPU and its kernel. Header-only.
 */
#ifndef HALE_BENCH_MACHINE_H
#define HALE_BENCH_MACHINE_H

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Writes "N cores (CPU model), Linux RELEASE" into buf. */
static inline void bench_machine(char *buf, size_t size)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            snprintf(model, sizeof(model), "%.200s", v ? v + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    snprintf(buf, size, "%ld cores (%s), Linux %s", sysconf(_SC_NPROCESSORS_ONLN), model,
             u.release);
}

#endif
