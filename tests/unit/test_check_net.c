/* SPDX-License-Identifier: MIT */
/*
 * Tests of the tcp and http check kinds on a real libuv loop, against real
 * servers on the loopback: ports the test listens on itself (a banner
 * server thread, a socket that never answers, a closed port, IPv6 ::1) and
 * the real nginx, started by the test with its own configuration, prefix
 * and pid file in a temporary directory, and stopped at the end. Nothing
 * asserts timing; timeouts are generous and only the verdicts are checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "checks/internal.h"
#include "config/config.h"
#include "testutil.h"

#define NGINX_BIN "/usr/sbin/nginx"

/* ---- running checks ---- */

struct result {
    int done;
    struct check_observation obs;
};

static void on_done(struct check_run *run, void *data)
{
    struct result *r = data;
    r->done++;
    r->obs = run->obs;
    memset(&run->obs, 0, sizeof(run->obs));
}

static struct config *load(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads "checks: [<the check>]" from a flow mapping. */
static struct config *load(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *check = xvasprintf(fmt, ap);
    va_end(ap);
    char *yaml = xasprintf("checks:\n  - %s\n", check);
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load_buffer("net.yaml", yaml, strlen(yaml), &c, &d);
    if (r < 0)
        config_diags_print(&d, stderr);
    assert_int_equal(r, 0);
    config_diags_fini(&d);
    free(check);
    free(yaml);
    return c;
}

/* Attaches host to its kind, as the runner does before the first run. */
static void host_attach(struct check_host *host)
{
    const struct check_kind *kind = check_kind_find(host->cfg->type);
    if (kind->attach)
        assert_int_equal(kind->attach(host, NULL), 0);
}

static void host_detach(struct check_host *host)
{
    const struct check_kind *kind = check_kind_find(host->cfg->type);
    if (kind->detach)
        kind->detach(host);
}

/*
 * Runs the first check of c once on a loop of its own and returns what it
 * observed; asserts the run finished once and left no handle open.
 */
static void run_once(struct config *c, struct check_observation *ret_obs)
{
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct check_host host = {.uv = &uv, .cfg = &c->checks[0], .data_dir = "."};
    host_attach(&host);
    struct result r = {0};
    assert_int_equal(check_run_start(&host, on_done, &r), 0);
    while (!r.done)
        uv_run(&uv, UV_RUN_ONCE);
    host_detach(&host);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.done, 1);
    assert_int_equal(uv_loop_close(&uv), 0); /* every handle was closed */
    assert_non_null(r.obs.summary);
    *ret_obs = r.obs;
}

static const struct check_sample *find_sample(const struct check_observation *o, const char *label)
{
    for (size_t i = 0; i < o->n_samples; i++)
        if (strcmp(o->samples[i].label, label) == 0)
            return &o->samples[i];
    return NULL;
}

static void assert_says(const struct check_observation *o, enum check_status status,
                        const char *text)
{
    if (o->status != status || !strstr(o->summary, text))
        fail_msg("got %s \"%s\", want %s with \"%s\"", check_status_name(o->status), o->summary,
                 check_status_name(status), text);
}

/* ---- sockets on the loopback ---- */

/* A listening socket on addr:0 (family AF_INET or AF_INET6); -1 if that family is missing. */
static int listen_any(int family, unsigned *ret_port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *ret_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* A port nothing listens on (it was free a moment ago). */
static unsigned closed_port(void)
{
    unsigned port;
    int fd = listen_any(AF_INET, &port);
    assert_true(fd >= 0);
    close(fd);
    return port;
}

/*
 * A one-connection server: accepts, writes banner, and if reply is set,
 * reads one chunk and writes reply; then closes.
 */
struct banner_server {
    int fd;
    const char *banner;
    const char *reply;
    unsigned delay_ms; /* before the reply */
    char got[256];     /* what the client sent */
    pthread_t thread;
};

static void *banner_serve(void *arg)
{
    struct banner_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (write(c, s->banner, strlen(s->banner)) < 0)
        goto out;
    if (s->reply) {
        ssize_t n = read(c, s->got, sizeof(s->got) - 1);
        struct timespec ts = {s->delay_ms / 1000, (long)(s->delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        if (n > 0 && write(c, s->reply, strlen(s->reply)) < 0)
            goto out;
    } else {
        /* Wait for the client to hang up, so it reads the banner first. */
        char b[64];
        while (read(c, b, sizeof(b)) > 0)
            ;
    }
out:
    close(c);
    return NULL;
}

static unsigned banner_start(struct banner_server *s, int family, const char *banner,
                             const char *reply, unsigned delay_ms)
{
    unsigned port;
    memset(s, 0, sizeof(*s));
    s->fd = listen_any(family, &port);
    assert_true(s->fd >= 0);
    s->banner = banner;
    s->reply = reply;
    s->delay_ms = delay_ms;
    assert_int_equal(pthread_create(&s->thread, NULL, banner_serve, s), 0);
    return port;
}

static void banner_stop(struct banner_server *s)
{
    shutdown(s->fd, SHUT_RDWR); /* wakes an accept() still waiting */
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* ---- tcp ---- */

static void test_check_tcp_connects(void **state)
{
    (void)state;
    unsigned port;
    int fd = listen_any(AF_INET, &port);
    assert_true(fd >= 0);
    struct config *c = load("{name: t, type: tcp, host: 127.0.0.1, port: %u, timeout: 10s}", port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "connected to 127.0.0.1 port");
    assert_non_null(find_sample(&o, "time"));
    assert_non_null(find_sample(&o, "connect"));
    assert_string_equal(find_sample(&o, "time")->unit, "s");
    check_observation_fini(&o);
    config_unref(c);
    close(fd);
}

static void test_check_tcp_refused(void **state)
{
    (void)state;
    unsigned port = closed_port();
    struct config *c = load("{name: t, type: tcp, host: 127.0.0.1, port: %u, timeout: 10s}", port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "connection refused");
    assert_null(find_sample(&o, "time"));
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_tcp_send_expect_banner(void **state)
{
    (void)state;
    struct banner_server s;
    unsigned port = banner_start(&s, AF_INET, "220 hale test ready\r\n", "+PONG\r\n", 0);
    struct config *c = load("{name: t, type: tcp, host: 127.0.0.1, port: %u, send: \"PING\\r\\n\", "
                            "expect: \"PONG\", timeout: 10s}",
                            port);
    struct check_observation o;
    run_once(c, &o);
    banner_stop(&s);
    assert_says(&o, CHECK_STATUS_OK, "answer matching /PONG/");
    assert_string_equal(s.got, "PING\r\n");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_tcp_expect_banner(void **state)
{
    (void)state;
    struct banner_server s;
    unsigned port = banner_start(&s, AF_INET, "220 hale test ready\r\n", NULL, 0);
    struct config *c =
            load("{name: t, type: tcp, host: 127.0.0.1, port: %u, expect: \"^220\", timeout: 10s}",
                 port);
    struct check_observation o;
    run_once(c, &o);
    banner_stop(&s);
    assert_says(&o, CHECK_STATUS_OK, "answer matching /^220/");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_tcp_wrong_answer(void **state)
{
    (void)state;
    struct banner_server s;
    unsigned port = banner_start(&s, AF_INET, "SSH-2.0-test\r\n", "bye\r\n", 0);
    struct config *c = load("{name: t, type: tcp, host: 127.0.0.1, port: %u, send: \"x\", "
                            "expect: \"^220\", timeout: 10s}",
                            port);
    struct check_observation o;
    run_once(c, &o);
    banner_stop(&s);
    assert_says(&o, CHECK_STATUS_CRITICAL, "no answer matching /^220/");
    assert_non_null(strstr(o.summary, "SSH-2.0-test"));
    check_observation_fini(&o);
    config_unref(c);
}

/* Accepted by the kernel, never answered: the runner's timeout ends it. */
static void test_check_tcp_silent_times_out(void **state)
{
    (void)state;
    unsigned port;
    int fd = listen_any(AF_INET, &port);
    assert_true(fd >= 0);
    struct config *c = load("{name: t, type: tcp, host: 127.0.0.1, port: %u, expect: \"^220\", "
                            "timeout: 300ms}",
                            port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "timed out after 300ms");
    assert_non_null(o.long_output);
    assert_non_null(strstr(o.long_output, "no answer matching /^220/"));
    check_observation_fini(&o);
    config_unref(c);
    close(fd);
}

static void test_check_tcp_ipv6_loopback(void **state)
{
    (void)state;
    struct banner_server s;
    unsigned port;
    int probe = listen_any(AF_INET6, &port);
    if (probe < 0)
        skip(); /* no IPv6 on this machine */
    close(probe);
    port = banner_start(&s, AF_INET6, "220 six\r\n", NULL, 0);
    struct config *c = load(
            "{name: t, type: tcp, host: \"::1\", port: %u, expect: \"^220\", timeout: 10s}", port);
    struct check_observation o;
    run_once(c, &o);
    banner_stop(&s);
    assert_says(&o, CHECK_STATUS_OK, "from ::1 port");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_tcp_unknown_host(void **state)
{
    (void)state;
    struct config *c = load("{name: t, type: tcp, host: nosuch.invalid, port: 80, timeout: 10s}");
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "cannot resolve nosuch.invalid");
    check_observation_fini(&o);
    config_unref(c);
}

/* The run's timeout timer is its only timer handle; its data is the run. */
static void find_run(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TIMER && !uv_is_closing(h))
        *(struct check_run **)arg = h->data;
}

/* The runner stops while the run waits: abort closes the socket, the run ends unknown. */
static void test_check_tcp_stop_closes(void **state)
{
    (void)state;
    unsigned port;
    int fd = listen_any(AF_INET, &port);
    assert_true(fd >= 0);
    struct config *c =
            load("{name: t, type: tcp, host: 127.0.0.1, port: %u, expect: \"^220\", timeout: 30s}",
                 port);
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct check_host host = {.uv = &uv, .cfg = &c->checks[0], .data_dir = "."};
    struct result r = {0};
    assert_int_equal(check_run_start(&host, on_done, &r), 0);
    /* Wait until the kernel queued the connection, so the run waits for an answer. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int conn = -1;
    for (int i = 0; i < 10000 && conn < 0; i++) {
        uv_run(&uv, UV_RUN_NOWAIT);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        conn = accept(fd, NULL, NULL);
    }
    assert_true(conn >= 0);
    struct check_run *run = NULL;
    uv_walk(&uv, find_run, &run);
    assert_non_null(run);
    check_run_abort(run);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.done, 1);
    assert_int_equal(uv_loop_close(&uv), 0);
    assert_says(&r.obs, CHECK_STATUS_UNKNOWN, "stopped");
    /* The peer sees the connection reset: a probe leaves no TIME_WAIT behind. */
    char b[8];
    assert_int_equal(read(conn, b, sizeof(b)), -1);
    assert_int_equal(errno, ECONNRESET);
    close(conn);
    check_observation_fini(&r.obs);
    config_unref(c);
    close(fd);
}

/* ---- nginx ---- */

struct nginx {
    char dir[64];
    unsigned port;     /* http */
    unsigned tls_port; /* https, with a self-signed certificate */
    pid_t pid;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs argv to its end; returns its exit status. */
static int run_program(char *const argv[])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool port_is_open(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void nginx_start(struct nginx *n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char conf[128];
        snprintf(conf, sizeof(conf), "%s/nginx.conf", n->dir);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(NGINX_BIN, NGINX_BIN, "-p", n->dir, "-c", conf, "-g",
              "daemon off; master_process off;", (char *)NULL);
        _exit(127);
    }
    n->pid = pid;
    for (int i = 0; i < 1000; i++) {
        if (port_is_open(n->port) && port_is_open(n->tls_port))
            return;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("nginx did not start listening on port %u", n->port);
}

static void nginx_stop(struct nginx *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(n->pid, &st, 0), n->pid);
    n->pid = 0;
}

static int nginx_setup(void **state)
{
    if (access(NGINX_BIN, X_OK) != 0) {
        fprintf(stderr, "%s is missing\n", NGINX_BIN);
        return -1;
    }
    struct nginx *n = xcalloc(1, sizeof(*n));
    snprintf(n->dir, sizeof(n->dir), "/tmp/hale-net-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    n->port = closed_port();
    n->tls_port = closed_port();
    char path[256], cert[256], key[256];
    snprintf(path, sizeof(path), "%s/www", n->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/www/index.html", n->dir);
    write_file(path, "<html>hale test page</html>\n");
    snprintf(cert, sizeof(cert), "%s/cert.pem", n->dir);
    snprintf(key, sizeof(key), "%s/key.pem", n->dir);
    char *openssl[] = {"/usr/bin/openssl",
                       "req",
                       "-x509",
                       "-newkey",
                       "rsa:2048",
                       "-nodes",
                       "-days",
                       "20",
                       "-subj",
                       "/CN=127.0.0.1",
                       "-addext",
                       "subjectAltName=IP:127.0.0.1",
                       "-keyout",
                       key,
                       "-out",
                       cert,
                       NULL};
    assert_int_equal(run_program(openssl), 0);

    char *conf =
            xasprintf("error_log %1$s/error.log;\n"
                      "pid %1$s/nginx.pid;\n"
                      "events { worker_connections 512; }\n"
                      "http {\n"
                      "  access_log off;\n"
                      "  client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy;\n"
                      "  fastcgi_temp_path %1$s/fastcgi; uwsgi_temp_path %1$s/uwsgi;\n"
                      "  scgi_temp_path %1$s/scgi;\n"
                      "  server {\n"
                      "    listen 127.0.0.1:%2$u;\n"
                      "    listen 127.0.0.1:%3$u ssl;\n"
                      "    ssl_certificate %4$s; ssl_certificate_key %5$s;\n"
                      "    root %1$s/www;\n"
                      "    location = /health { default_type text/plain; return 200 \"ok\\n\"; }\n"
                      "    location = /down { return 503; }\n"
                      "    location = /moved { return 301 /health; }\n"
                      "    location = /post {\n"
                      "      if ($request_method != POST) { return 405; }\n"
                      "      if ($http_x_hale != \"yes\") { return 403; }\n"
                      "      return 201 \"created\\n\";\n"
                      "    }\n"
                      "  }\n"
                      "}\n",
                      n->dir, n->port, n->tls_port, cert, key);
    snprintf(path, sizeof(path), "%s/nginx.conf", n->dir);
    write_file(path, conf);
    free(conf);
    nginx_start(n);
    *state = n;
    return 0;
}

static int nginx_teardown(void **state)
{
    struct nginx *n = *state;
    nginx_stop(n);
    testutil_rm_rf(n->dir);
    free(n);
    return 0;
}

/* ---- http ---- */

static void test_check_http_ok_body_match(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/health\", "
                            "expect: {status: 200, body: \"^ok\"}, timeout: 10s}",
                            n->port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "HTTP/1.1 200 OK - 3 bytes in ");
    assert_non_null(find_sample(&o, "time"));
    assert_true(find_sample(&o, "size")->value == 3);
    assert_string_equal(find_sample(&o, "size")->unit, "B");
    assert_true(find_sample(&o, "status")->value == 200);
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_http_body_mismatch(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/\", "
                            "expect: {body: \"ready\"}, timeout: 10s}",
                            n->port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "body does not match /ready/");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_http_404(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/missing\", "
                            "timeout: 10s}",
                            n->port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "HTTP 404 (expected 2xx or 3xx)");
    assert_true(find_sample(&o, "status")->value == 404);
    check_observation_fini(&o);
    config_unref(c);

    /* A 404 that is expected is an answer like any other. */
    c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/missing\", "
             "expect: {status: [404, 410]}, timeout: 10s}",
             n->port);
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "HTTP/1.1 404 Not Found");
    check_observation_fini(&o);
    config_unref(c);

    c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/down\", "
             "expect: {status: [200, 204]}, timeout: 10s}",
             n->port);
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "HTTP 503 (expected 200, 204)");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_http_redirect_not_followed(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/moved\", "
                            "timeout: 10s}",
                            n->port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "301 Moved Permanently");
    check_observation_fini(&o);
    config_unref(c);
}

static void test_check_http_post_with_headers(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/post\", "
                            "method: POST, headers: {X-Hale: \"yes\"}, body: \"{}\", "
                            "expect: {status: 201, body: created}, timeout: 10s}",
                            n->port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "201 Created");
    check_observation_fini(&o);
    config_unref(c);

    /* Without the header nginx refuses: the header did make the difference. */
    c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/post\", method: POST, "
             "expect: {status: 201}, timeout: 10s}",
             n->port);
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "HTTP 403");
    check_observation_fini(&o);
    config_unref(c);
}

/*
 * The runs of one loop share curl handles: nothing of one check's request
 * (method, header, body) carries over to the next check's. (Credentials in
 * the URL send these requests through libcurl.)
 */
static void test_check_http_reused_handle_starts_clean(void **state)
{
    struct nginx *n = *state;
    char *yaml = xasprintf("checks:\n"
                           "  - {name: post, type: http, url: \"http://u:p@127.0.0.1:%1$u/post\", "
                           "method: POST, headers: {X-Hale: \"yes\"}, body: \"{}\", "
                           "expect: {status: 201}}\n"
                           "  - {name: bare, type: http, url: \"http://u:p@127.0.0.1:%1$u/post\", "
                           "method: POST, expect: {status: 201}}\n"
                           "  - {name: get, type: http, url: \"http://u:p@127.0.0.1:%1$u/post\"}\n",
                           n->port);
    struct config *c = NULL;
    struct config_diags d = {0};
    assert_int_equal(config_load_buffer("net.yaml", yaml, strlen(yaml), &c, &d), 0);
    config_diags_fini(&d);
    free(yaml);
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct check_host hosts[3];
    struct result r[3];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 3; i++) {
        hosts[i] = (struct check_host){.uv = &uv, .cfg = &c->checks[i], .data_dir = "."};
        host_attach(&hosts[i]);
    }
    for (int i = 0; i < 3; i++) { /* one after the other: each takes the last one's handle */
        assert_int_equal(check_run_start(&hosts[i], on_done, &r[i]), 0);
        while (!r[i].done)
            uv_run(&uv, UV_RUN_ONCE);
    }
    assert_says(&r[0].obs, CHECK_STATUS_OK, "201 Created");
    assert_says(&r[1].obs, CHECK_STATUS_CRITICAL, "HTTP 403"); /* no X-Hale left over */
    assert_says(&r[2].obs, CHECK_STATUS_CRITICAL, "HTTP 405"); /* a GET again, not a POST */
    for (int i = 0; i < 3; i++) {
        check_observation_fini(&r[i].obs);
        host_detach(&hosts[i]);
    }
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);
    config_unref(c);
}

/* ---- http: the answer, read without libcurl ---- */

struct read_result {
    struct http_answer a;
    int rc;
    char why[160];
};

/* Feeds answer to a reader in pieces of step bytes (0: whole), then the end of the stream. */
static void read_answer(const char *answer, size_t len, size_t step, bool head,
                        struct read_result *r)
{
    struct http_reader reader;
    *r = (struct read_result){.a.body.keep = true};
    http_reader_init(&reader, &r->a, head);
    for (size_t at = 0; at < len && r->rc == 0;) {
        size_t n = step && len - at > step ? step : len - at;
        r->rc = http_reader_feed(&reader, answer + at, n, r->why, sizeof(r->why));
        at += n;
    }
    if (r->rc == 0)
        r->rc = http_reader_feed(&reader, NULL, 0, r->why, sizeof(r->why));
}

static void assert_body(const struct read_result *r, const char *body)
{
    assert_int_equal(r->a.body.len, strlen(body));
    assert_memory_equal(r->a.body.data, body, strlen(body));
}

static void test_check_http_answer_read_in_any_pieces(void **state)
{
    (void)state;
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "4\r\nall \r\n6\r\nhealth\r\n0\r\n\r\n";
    for (size_t step = 0; step <= 7; step++) {
        struct read_result r;
        read_answer(chunked, strlen(chunked), step, false, &r);
        assert_int_equal(r.rc, 1);
        assert_int_equal(r.a.code, 200);
        assert_string_equal(r.a.status_line, "HTTP/1.1 200 OK");
        assert_body(&r, "all health");
        free(r.a.body.data);
    }
}

static void test_check_http_answer_ends_as_http_says(void **state)
{
    (void)state;
    struct read_result r;
    /* HTTP/1.0 without a length: the body ends with the connection. */
    static const char eof[] = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    read_answer(eof, strlen(eof), 0, false, &r);
    assert_int_equal(r.rc, 1);
    assert_body(&r, "until the end");
    free(r.a.body.data);

    /* An interim answer, then the one that counts; no reason phrase, no trailing space. */
    static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204\r\n\r\n";
    read_answer(interim, strlen(interim), 3, false, &r);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.a.code, 204);
    assert_string_equal(r.a.status_line, "HTTP/1.1 204");
    free(r.a.body.data);

    /* A 304 has no body, whatever its length says; a 101 is final. */
    static const char not_modified[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n";
    struct http_reader rd;
    struct http_answer na = {.body.keep = true};
    char why304[160];
    http_reader_init(&rd, &na, false);
    assert_int_equal(
            http_reader_feed(&rd, not_modified, strlen(not_modified), why304, sizeof(why304)), 1);
    assert_int_equal(na.code, 304);
    static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                                    "Connection: upgrade\r\n\r\nother bytes";
    read_answer(switching, strlen(switching), 0, false, &r);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.a.code, 101);
    free(r.a.body.data);

    /* The answer to a HEAD has no body, whatever its length says. */
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    struct http_reader reader;
    struct http_answer a = {.body.keep = true};
    char why[160];
    http_reader_init(&reader, &a, true);
    assert_int_equal(http_reader_feed(&reader, head, strlen(head), why, sizeof(why)), 1);
    assert_int_equal(a.body.len, 0);
}

static void test_check_http_answer_broken_or_cut(void **state)
{
    (void)state;
    struct read_result r;
    read_answer("hello\r\n\r\n", 9, 0, false, &r);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.why, "invalid HTTP answer"));
    free(r.a.body.data);

    read_answer("", 0, 0, false, &r);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.why, "without answering"));

    static const char short_body[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.";
    read_answer(short_body, strlen(short_body), 0, false, &r);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.why, "before the end"));
    free(r.a.body.data);

    /* Past HTTP_BODY_MAX the answer is judged on what came: the rest is not read. */
    size_t big = HTTP_BODY_MAX + 4096;
    char *answer = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
    size_t head_len = strlen(answer);
    answer = xrealloc(answer, head_len + big);
    memset(answer + head_len, 'x', big);
    read_answer(answer, head_len + big, 65536, false, &r);
    assert_int_equal(r.rc, 1);
    assert_true(r.a.body.cut);
    assert_int_equal(r.a.body.len, HTTP_BODY_MAX);
    free(r.a.body.data);
    free(answer);
}

/* What hale sends itself, and what it leaves to libcurl. */
static void test_check_http_which_client(void **state)
{
    (void)state;
    static const char *const mine[] = {"http://127.0.0.1:8/x?y=1#f", "http://[::1]/",
                                       "HTTP://example.com"};
    static const char *const curls[] = {"https://127.0.0.1/", "http://u:p@127.0.0.1/",
                                        "http://127.0.0.1/a b", "http://[fe80::1%25eth0]/"};
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        struct config_check_http cfg = {.url = mine[i]};
        struct http_wire_target *t = http_wire_target_new(&cfg);
        assert_non_null(t);
        http_wire_target_free(t);
    }
    for (size_t i = 0; i < sizeof(curls) / sizeof(curls[0]); i++) {
        struct config_check_http cfg = {.url = curls[i]};
        assert_null(http_wire_target_new(&cfg));
    }
    /* A body to send in chunks: libcurl encodes them. */
    struct config_kv te = {.name = "Transfer-Encoding", .value = "chunked"};
    struct config_check_http chunked = {.url = "http://127.0.0.1/", .headers = {.v = &te, .n = 1}};
    assert_null(http_wire_target_new(&chunked));
    /* A proxy in the environment: libcurl knows what no_proxy exempts. */
    struct config_check_http cfg = {.url = "http://127.0.0.1/"};
    setenv("http_proxy", "http://127.0.0.1:3128", 1);
    assert_null(http_wire_target_new(&cfg));
    unsetenv("http_proxy");
}

static void test_check_http_nginx_down_then_up(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/health\", "
                            "timeout: 10s}",
                            n->port);
    struct check_observation o;
    nginx_stop(n);
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "connection refused");
    check_observation_fini(&o);

    nginx_start(n);
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_OK, "200 OK");
    check_observation_fini(&o);
    config_unref(c);
}

/* A server that accepts (through the kernel's backlog) and never answers. */
static void test_check_http_slow_times_out(void **state)
{
    (void)state;
    unsigned port;
    int fd = listen_any(AF_INET, &port);
    assert_true(fd >= 0);
    struct config *c =
            load("{name: t, type: http, url: \"http://127.0.0.1:%u/\", timeout: 300ms}", port);
    struct check_observation o;
    run_once(c, &o);
    assert_says(&o, CHECK_STATUS_CRITICAL, "timed out after 300ms");
    assert_non_null(o.long_output);
    assert_non_null(strstr(o.long_output, "no answer from"));
    check_observation_fini(&o);
    config_unref(c);
    close(fd);
}

/* A reply held back 300 ms is over a 100 ms limit, whatever the machine. */
static void test_check_http_latency_limits(void **state)
{
    (void)state;
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                "Connection: close\r\n\r\nok";
    static const struct {
        const char *limits;
        enum check_status status;
    } cases[] = {
            {"latency_warn: 100ms, latency_crit: 20s", CHECK_STATUS_WARNING},
            {"latency_warn: 50ms, latency_crit: 100ms", CHECK_STATUS_CRITICAL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct banner_server s;
        unsigned port = banner_start(&s, AF_INET, "", reply, 300);
        struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/\", %s, "
                                "timeout: 30s}",
                                port, cases[i].limits);
        struct check_observation o;
        run_once(c, &o);
        banner_stop(&s);
        assert_says(&o, cases[i].status, "response time");
        assert_non_null(strstr(o.summary, "HTTP/1.1 200 OK - 2 bytes in"));
        const struct check_sample *t = find_sample(&o, "time");
        assert_true(t->has_warn && t->has_crit);
        assert_true(t->value >= 0.3);
        check_observation_fini(&o);
        config_unref(c);
    }
}

/* 50 runs at once on one loop, one multi handle: each finishes, each ok. */
static void test_check_http_many_at_once(void **state)
{
    struct nginx *n = *state;
    enum {
        N = 50
    };
    struct config *c = load("{name: t, type: http, url: \"http://127.0.0.1:%u/health\", "
                            "expect: {body: ok}, timeout: 20s}",
                            n->port);
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct check_host hosts[N];
    struct result r[N];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < N; i++) {
        hosts[i] = (struct check_host){.uv = &uv, .cfg = &c->checks[0], .data_dir = "."};
        host_attach(&hosts[i]);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(check_run_start(&hosts[i], on_done, &r[i]), 0);
    /* All 50 are in flight together before the loop runs once. */
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].done, 0);
    /* The hosts hold the multi: the loop stays alive until they detach. */
    int finished = 0;
    while (finished < N) {
        uv_run(&uv, UV_RUN_ONCE);
        finished = 0;
        for (int i = 0; i < N; i++)
            finished += r[i].done;
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].done, 1);
        assert_says(&r[i].obs, CHECK_STATUS_OK, "200 OK");
        check_observation_fini(&r[i].obs);
        host_detach(&hosts[i]);
    }
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);
    config_unref(c);
}

static void test_check_http_tls_untrusted(void **state)
{
    struct nginx *n = *state;
    struct config *c = load("{name: t, type: http, url: \"https://127.0.0.1:%u/health\", "
                            "cert_days_warn: 30, cert_days_crit: 7, timeout: 10s}",
                            n->tls_port);
    struct check_observation o;
    run_once(c, &o);
    /* A self-signed certificate is not trusted: no answer, and it says why. */
    assert_says(&o, CHECK_STATUS_CRITICAL, "certificate");
    check_observation_fini(&o);
    config_unref(c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* A proxy in the environment would send plain http through libcurl. */
    unsetenv("http_proxy");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    /* One group (one results file); the http tests share the nginx it starts. */
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_check_tcp_connects),
            cmocka_unit_test(test_check_tcp_refused),
            cmocka_unit_test(test_check_tcp_send_expect_banner),
            cmocka_unit_test(test_check_tcp_expect_banner),
            cmocka_unit_test(test_check_tcp_wrong_answer),
            cmocka_unit_test(test_check_tcp_silent_times_out),
            cmocka_unit_test(test_check_tcp_ipv6_loopback),
            cmocka_unit_test(test_check_tcp_unknown_host),
            cmocka_unit_test(test_check_tcp_stop_closes),
            cmocka_unit_test(test_check_http_slow_times_out),
            cmocka_unit_test(test_check_http_latency_limits),
            cmocka_unit_test(test_check_http_ok_body_match),
            cmocka_unit_test(test_check_http_body_mismatch),
            cmocka_unit_test(test_check_http_404),
            cmocka_unit_test(test_check_http_redirect_not_followed),
            cmocka_unit_test(test_check_http_post_with_headers),
            cmocka_unit_test(test_check_http_reused_handle_starts_clean),
            cmocka_unit_test(test_check_http_nginx_down_then_up),
            cmocka_unit_test(test_check_http_many_at_once),
            cmocka_unit_test(test_check_http_tls_untrusted),
            cmocka_unit_test(test_check_http_answer_read_in_any_pieces),
            cmocka_unit_test(test_check_http_answer_ends_as_http_says),
            cmocka_unit_test(test_check_http_answer_broken_or_cut),
            cmocka_unit_test(test_check_http_which_client),
    };
    return cmocka_run_group_tests(tests, nginx_setup, nginx_teardown);
}
