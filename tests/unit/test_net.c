/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/net/: one curl multi handle per libuv loop, transfers that
 * end once, cancelled transfers that close their connection, connections
 * slow to come up, a kept-alive connection reused, and the TLS certificate's days left, against
 * `openssl s_server` on the loopback with a certificate the test makes. The http check kind's own
 * tests (test_check_net.c) cover many transfers at once against nginx.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <uv.h>

#include "base/alloc.h"
#include "net/net.h"
#include "testutil.h"

static int listen_loopback(unsigned *ret_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *ret_port = ntohs(a.sin_port);
    return fd;
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

static void test_net_multi_one_per_loop(void **state)
{
    (void)state;
    uv_loop_t a, b;
    assert_int_equal(uv_loop_init(&a), 0);
    assert_int_equal(uv_loop_init(&b), 0);
    struct net_multi *a1 = net_multi_ref(&a);
    struct net_multi *a2 = net_multi_ref(&a);
    struct net_multi *b1 = net_multi_ref(&b);
    assert_ptr_equal(a1, a2);
    assert_ptr_not_equal(a1, b1);
    net_multi_unref(a1);
    net_multi_unref(b1);
    /* a2 still holds a's multi: its timer is still a handle of a. */
    assert_int_equal(uv_run(&b, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&b), 0);
    assert_int_equal(uv_loop_close(&a), UV_EBUSY);
    net_multi_unref(a2);
    net_multi_unref(NULL);
    assert_int_equal(uv_run(&a, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&a), 0);
}

struct cancel_case {
    CURL *easy;
    int listen_fd;
    unsigned port;
    int conn;
    int calls;
    int client_fds, client_cloexec; /* our sockets connected to port, and with FD_CLOEXEC */
};

/* Counts this process's sockets connected to c->port, and those closed on exec. */
static void count_client_sockets(struct cancel_case *c)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        if (getpeername(fd, (struct sockaddr *)&a, &len) < 0 || a.sin_family != AF_INET ||
            ntohs(a.sin_port) != c->port)
            continue;
        c->client_fds++;
        if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
            c->client_cloexec++;
    }
}

static void never_called(CURL *easy, CURLcode result, void *data)
{
    (void)easy;
    (void)result;
    struct cancel_case *c = data;
    c->calls++;
}

static void cancel_on_timer(uv_timer_t *t)
{
    struct cancel_case *c = t->data;
    c->conn = accept(c->listen_fd, NULL, NULL);
    if (c->conn < 0) {
        uv_timer_start(t, cancel_on_timer, 10, 0);
        return;
    }
    count_client_sockets(c);
    net_transfer_cancel(c->easy);
    uv_close((uv_handle_t *)t, NULL);
}

/*
 * A cancelled transfer never calls back, and its connection is closed. Its
 * socket is not inherited by the children hale spawns meanwhile.
 */
static void test_net_transfer_cancel_closes(void **state)
{
    (void)state;
    struct cancel_case c = {0};
    unsigned port;
    c.listen_fd = listen_loopback(&port);
    c.port = port;
    fcntl(c.listen_fd, F_SETFL, O_NONBLOCK);
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct net_multi *m = net_multi_ref(&uv);
    c.easy = curl_easy_init();
    char *url = xasprintf("http://127.0.0.1:%u/", port);
    curl_easy_setopt(c.easy, CURLOPT_URL, url);
    assert_int_equal(net_transfer_start(m, c.easy, never_called, &c, NULL), 0);
    net_multi_unref(m); /* the transfer holds it now */
    uv_timer_t t;
    uv_timer_init(&uv, &t);
    t.data = &c;
    uv_timer_start(&t, cancel_on_timer, 10, 0);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);
    assert_int_equal(c.calls, 0);
    assert_true(c.conn >= 0);
    assert_int_equal(c.client_fds, 1);
    assert_int_equal(c.client_cloexec, 1);
    char b[256];
    fcntl(c.conn, F_SETFL, 0);
    ssize_t n;
    while ((n = read(c.conn, b, sizeof(b))) > 0)
        ;                   /* the request curl sent before the cancel */
    assert_int_equal(n, 0); /* then the hang-up */
    close(c.conn);
    close(c.listen_fd);
    curl_easy_cleanup(c.easy);
    free(url);
}

struct slow_case {
    uv_timer_t timer;
    int listen_fd, filler, conn;
    int calls;
    CURLcode result;
    long code;
};

static void slow_done(CURL *easy, CURLcode result, void *data)
{
    struct slow_case *c = data;
    c->calls++;
    c->result = result;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->code);
    if (!uv_is_closing((uv_handle_t *)&c->timer)) /* the connection never came */
        uv_close((uv_handle_t *)&c->timer, NULL);
}

/*
 * Frees the listener's only queue slot, then answers the request on the
 * connection that takes it. Never blocks: a request that never comes must
 * let curl time out.
 */
static void slow_on_timer(uv_timer_t *t)
{
    struct slow_case *c = t->data;
    int fd = c->conn < 0 ? accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK) : -1;
    if (fd >= 0 && c->filler < 0)
        c->filler = fd;
    else if (fd >= 0)
        c->conn = fd;
    char b[1024];
    if (c->conn >= 0 && read(c->conn, b, sizeof(b)) > 0) {
        const char *answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert_int_equal(write(c->conn, answer, strlen(answer)), (ssize_t)strlen(answer));
        uv_close((uv_handle_t *)t, NULL);
        return;
    }
    uv_timer_start(t, slow_on_timer, 10, 0);
}

/*
 * A connection that is not up when curl first looks at it waits in the
 * epoll set until it is: here the server's accept queue is full when curl
 * connects, so its first SYN is dropped and only a later one gets through.
 */
static void test_net_transfer_waits_for_slow_connect(void **state)
{
    (void)state;
    struct slow_case c = {.filler = -1, .conn = -1};
    unsigned port;
    c.listen_fd = listen_loopback(&port);
    assert_int_equal(listen(c.listen_fd, 0), 0); /* one connection fills the queue */
    fcntl(c.listen_fd, F_SETFL, O_NONBLOCK);
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);

    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct net_multi *m = net_multi_ref(&uv);
    CURL *easy = curl_easy_init();
    char *url = xasprintf("http://127.0.0.1:%u/", port);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    assert_int_equal(net_transfer_start(m, easy, slow_done, &c, NULL), 0);
    net_multi_unref(m);
    uv_timer_init(&uv, &c.timer);
    c.timer.data = &c;
    uv_timer_start(&c.timer, slow_on_timer, 50, 0);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);

    assert_int_equal(c.calls, 1);
    assert_int_equal(c.result, CURLE_OK);
    assert_int_equal(c.code, 200);
    close(c.conn);
    close(c.filler);
    close(filler);
    close(c.listen_fd);
    curl_easy_cleanup(easy);
    free(url);
}

struct reuse_case {
    uv_timer_t timer;
    struct net_multi *m;
    char url[64];
    int listen_fd, conn, accepted;
    int left, ok;
    long connects;
};

static size_t reuse_discard(char *p, size_t size, size_t n, void *data)
{
    (void)p;
    (void)data;
    return size * n;
}

static void reuse_start(struct reuse_case *c);

static void reuse_done(CURL *easy, CURLcode result, void *data)
{
    struct reuse_case *c = data;
    long code = 0, connects = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    c->ok += result == CURLE_OK && code == 200;
    c->connects += connects;
    net_easy_put(c->m, easy);
    if (--c->left > 0)
        reuse_start(c);
    else
        uv_close((uv_handle_t *)&c->timer, NULL);
}

static void reuse_start(struct reuse_case *c)
{
    CURL *easy = net_easy_get(c->m);
    curl_easy_setopt(easy, CURLOPT_URL, c->url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, reuse_discard);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    assert_int_equal(net_transfer_start(c->m, easy, reuse_done, c, NULL), 0);
}

/* Accepts connections and answers each request, keeping the connection open. */
static void reuse_on_timer(uv_timer_t *t)
{
    struct reuse_case *c = t->data;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        if (c->conn >= 0)
            close(c->conn);
        c->conn = fd;
        c->accepted++;
    }
    char b[4096];
    if (c->conn >= 0 && read(c->conn, b, sizeof(b)) > 0) {
        const char *answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_int_equal(write(c->conn, answer, strlen(answer)), (ssize_t)strlen(answer));
    }
    uv_timer_start(t, reuse_on_timer, 5, 0);
}

/*
 * Transfers one after another to a server that keeps the connection
 * alive all go over the one connection: its socket leaves the epoll set
 * between them and comes back for the next request.
 */
static void test_net_transfers_reuse_a_kept_connection(void **state)
{
    (void)state;
    struct reuse_case c = {.conn = -1, .left = 4};
    unsigned port;
    c.listen_fd = listen_loopback(&port);
    fcntl(c.listen_fd, F_SETFL, O_NONBLOCK);
    snprintf(c.url, sizeof(c.url), "http://127.0.0.1:%u/", port);
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    c.m = net_multi_ref(&uv);
    uv_timer_init(&uv, &c.timer);
    c.timer.data = &c;
    uv_timer_start(&c.timer, reuse_on_timer, 5, 0);
    reuse_start(&c);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.ok, 4);
    assert_int_equal(c.accepted, 1);
    assert_int_equal(c.connects, 1);
    net_multi_unref(c.m);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);
    close(c.conn);
    close(c.listen_fd);
}

struct tls_case {
    int calls;
    CURLcode result;
    long code;
    int days_r;
    double days;
};

static void tls_done(CURL *easy, CURLcode result, void *data)
{
    struct tls_case *c = data;
    c->calls++;
    c->result = result;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->code);
    c->days_r = net_tls_cert_days_left(easy, &c->days);
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
    (void)p;
    (void)data;
    return size * n;
}

static int run_quietly(char *const argv[], pid_t *ret_pid, bool wait)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (!wait) {
        *ret_pid = pid;
        return 0;
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_net_tls_cert_days(void **state)
{
    (void)state;
    char dir[] = "/tmp/hale-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *cert = xasprintf("%s/cert.pem", dir), *key = xasprintf("%s/key.pem", dir);
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
    assert_int_equal(run_quietly(openssl, NULL, true), 0);
    unsigned port;
    int fd = listen_loopback(&port);
    close(fd);
    char *accept_at = xasprintf("127.0.0.1:%u", port);
    char *server[] = {"/usr/bin/openssl",
                      "s_server",
                      "-accept",
                      accept_at,
                      "-cert",
                      cert,
                      "-key",
                      key,
                      "-www",
                      "-quiet",
                      NULL};
    pid_t pid;
    run_quietly(server, &pid, false);
    for (int i = 0; i < 1000 && !port_is_open(port); i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }

    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    struct net_multi *m = net_multi_ref(&uv);
    CURL *easy = curl_easy_init();
    char *url = xasprintf("https://127.0.0.1:%u/", port);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CAINFO, cert);
    curl_easy_setopt(easy, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
    struct tls_case c = {0};
    assert_int_equal(net_transfer_start(m, easy, tls_done, &c, NULL), 0);
    net_multi_unref(m);
    assert_int_equal(uv_run(&uv, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&uv), 0);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);

    assert_int_equal(c.calls, 1);
    assert_int_equal(c.result, CURLE_OK);
    assert_int_equal(c.code, 200);
    assert_int_equal(c.days_r, 0);
    assert_true(c.days > 18.9 && c.days <= 20.0);

    /* A handle that never spoke TLS has no certificate. */
    CURL *plain = curl_easy_init();
    double days;
    assert_int_equal(net_tls_cert_days_left(plain, &days), HALE_ENOTFOUND);
    curl_easy_cleanup(plain);

    curl_easy_cleanup(easy);
    testutil_rm_rf(dir);
    free(url);
    free(accept_at);
    free(cert);
    free(key);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_net_multi_one_per_loop),
            cmocka_unit_test(test_net_transfer_cancel_closes),
            cmocka_unit_test(test_net_transfer_waits_for_slow_connect),
            cmocka_unit_test(test_net_transfers_reuse_a_kept_connection),
            cmocka_unit_test(test_net_tls_cert_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
