/* SPDX-License-Identifier: MIT */
/*
 * What the C benchmark programs share: the description of the machine
 * they ran on, for the first lines of a report, and number options.
 * Header-only: each program is one file.
 */
#ifndef HALE_BENCH_BENCH_H
#define HALE_BENCH_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Prints "command: ..." and, unless a program describes more of its machine, "machine: ...". */
static inline void bench_print_command(int argc, char **argv, bool machine)
{
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    if (machine) {
        char m[512];
        bench_machine(m, sizeof(m));
        printf("machine: %s\n", m);
    }
}

/* The value of option name, from 1 to max; exits with a message otherwise. */
static inline unsigned bench_parse_unsigned(const char *prog, const char *s, const char *name,
                                            unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v == 0 || v > max) {
        fprintf(stderr, "%s: %s wants a number from 1 to %lu\n", prog, name, max);
        exit(2);
    }
    return (unsigned)v;
}

/* An option: --name VALUE, a number from 1 to max into *u or text into *s; or a --name flag into
 * *flag. */
struct bench_option {
    const char *name;
    unsigned *u;
    unsigned long max;
    const char **s;
    bool *flag;
};

/*
 * Reads argv[from], ... as the options of opts (ended by a NULL name);
 * exits with a message naming the option on anything else.
 */
static inline void bench_options(const char *prog, int argc, char **argv, int from,
                                 const struct bench_option *opts)
{
    for (int i = from; i < argc; i++) {
        const struct bench_option *o = opts;
        while (o->name && strcmp(o->name, argv[i]) != 0)
            o++;
        if (!o->name) {
            fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]);
            exit(2);
        }
        if (o->flag) {
            *o->flag = true;
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "%s: %s wants a value\n", prog, argv[i]);
            exit(2);
        }
        if (o->u)
            *o->u = bench_parse_unsigned(prog, argv[i + 1], argv[i], o->max);
        else
            *o->s = argv[i + 1];
        i++;
    }
}

#endif
