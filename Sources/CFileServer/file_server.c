#define _GNU_SOURCE
#include "file_server.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct server {
    int listener;
    SSL_CTX *context;
    char root[PATH_MAX];
    long rate;
    volatile int stopping;
};

#define MAX_SERVERS 8
static struct server *servers[MAX_SERVERS];
static pthread_mutex_t servers_lock = PTHREAD_MUTEX_INITIALIZER;

struct connection {
    struct server *server;
    int fd;
};

static void respond(SSL *ssl, const char *status, const char *extra) {
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nConnection: close\r\nContent-Length: 0\r\n%s\r\n", status, extra ? extra : "");
    SSL_write(ssl, head, n);
}

/* Only plain names under the root: no "..", no hidden files, no escapes beyond %20-style. */
static int resolve(const struct server *server, const char *target, char *path, size_t length) {
    if (target[0] != '/' || strstr(target, "..") || strchr(target, '%') || strchr(target, '?') || strstr(target, "/.")) return -1;
    if (snprintf(path, length, "%s%s", server->root, target) >= (int)length) return -1;
    return 0;
}

static void *serve_connection(void *argument) {
    struct connection *connection = argument;
    /* A client that goes away mid-file (a device losing power) must cost this thread an EPIPE,
     * not the process a SIGPIPE: blocked here, it stays pending on this thread, which ends. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    struct server *server = connection->server;
    SSL *ssl = SSL_new(server->context);
    char request[8192];
    size_t used = 0;
    int fd = -1;
    SSL_set_fd(ssl, connection->fd);
    if (SSL_accept(ssl) != 1) goto done;
    /* The request head, up to the blank line. */
    while (used < sizeof request - 1) {
        int n = SSL_read(ssl, request + used, (int)(sizeof request - 1 - used));
        if (n <= 0) goto done;
        used += (size_t)n;
        request[used] = 0;
        if (strstr(request, "\r\n\r\n")) break;
    }
    char method[8], target[4096];
    if (sscanf(request, "%7s %4095s", method, target) != 2) { respond(ssl, "400 Bad Request", NULL); goto done; }
    int head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) { respond(ssl, "405 Method Not Allowed", "Allow: GET, HEAD\r\n"); goto done; }
    char path[PATH_MAX];
    struct stat info;
    if (resolve(server, target, path, sizeof path) != 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
        fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        respond(ssl, "404 Not Found", NULL);
        goto done;
    }
    long long size = info.st_size, start = 0;
    const char *range = strcasestr(request, "\r\nRange: bytes=");
    if (range) {
        start = atoll(range + strlen("\r\nRange: bytes="));
        if (start < 0 || start >= size) {
            char extra[64];
            snprintf(extra, sizeof extra, "Content-Range: bytes */%lld\r\n", size);
            respond(ssl, "416 Range Not Satisfiable", extra);
            goto done;
        }
    }
    char header[512];
    int n = range ? snprintf(header, sizeof header,
                             "HTTP/1.1 206 Partial Content\r\nConnection: close\r\nAccept-Ranges: bytes\r\n"
                             "Content-Length: %lld\r\nContent-Range: bytes %lld-%lld/%lld\r\n\r\n",
                             size - start, start, size - 1, size)
                  : snprintf(header, sizeof header,
                             "HTTP/1.1 200 OK\r\nConnection: close\r\nAccept-Ranges: bytes\r\nContent-Length: %lld\r\n\r\n", size);
    if (SSL_write(ssl, header, n) <= 0 || head) goto done;
    if (lseek(fd, start, SEEK_SET) < 0) goto done;
    /* 16 KB at a time; with a rate, each chunk waits for its share of the second. */
    char chunk[16384];
    size_t step = server->rate > 0 && server->rate < (long)sizeof chunk ? (size_t)server->rate : sizeof chunk;
    struct timespec begun;
    clock_gettime(CLOCK_MONOTONIC, &begun);
    long long sent = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, step);
        if (got <= 0) break;
        if (SSL_write(ssl, chunk, (int)got) <= 0) break;
        sent += got;
        if (server->rate > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (double)(now.tv_sec - begun.tv_sec) + (double)(now.tv_nsec - begun.tv_nsec) / 1e9;
            double due = (double)sent / (double)server->rate;
            if (due > elapsed) {
                double wait = due - elapsed;
                struct timespec pause = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
                nanosleep(&pause, NULL);
            }
        }
    }
done:
    if (fd >= 0) close(fd);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(connection->fd);
    free(connection);
    return NULL;
}

static void *accept_loop(void *argument) {
    struct server *server = argument;
    while (!server->stopping) {
        int fd = accept4(server->listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            break;
        }
        struct connection *connection = malloc(sizeof *connection);
        pthread_t thread;
        if (!connection) { close(fd); continue; }
        connection->server = server;
        connection->fd = fd;
        if (pthread_create(&thread, NULL, serve_connection, connection) != 0) { close(fd); free(connection); continue; }
        pthread_detach(thread);
    }
    return NULL;
}

int localcloud_file_server_start(const char *root, int port, const char *cert_file, const char *key_file,
                                 long rate, char *error, size_t error_length) {
    struct server *server = calloc(1, sizeof *server);
    if (!server) { snprintf(error, error_length, "out of memory"); return -1; }
    snprintf(server->root, sizeof server->root, "%s", root);
    server->rate = rate;
    server->context = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(server->context, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(server->context, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(server->context, key_file, SSL_FILETYPE_PEM) != 1) {
        snprintf(error, error_length, "cannot load %s / %s: %s", cert_file, key_file, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(server->context);
        free(server);
        return -1;
    }
    server->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(server->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server->listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(server->listener, 64) != 0) {
        snprintf(error, error_length, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
        close(server->listener);
        SSL_CTX_free(server->context);
        free(server);
        return -1;
    }
    pthread_mutex_lock(&servers_lock);
    int handle = -1;
    for (int i = 0; i < MAX_SERVERS; i++) if (!servers[i]) { servers[i] = server; handle = i; break; }
    pthread_mutex_unlock(&servers_lock);
    pthread_t thread;
    if (handle < 0 || pthread_create(&thread, NULL, accept_loop, server) != 0) {
        snprintf(error, error_length, "cannot start the file server");
        close(server->listener);
        SSL_CTX_free(server->context);
        free(server);
        return -1;
    }
    pthread_detach(thread);
    return handle;
}

void localcloud_file_server_stop(int handle) {
    if (handle < 0 || handle >= MAX_SERVERS) return;
    pthread_mutex_lock(&servers_lock);
    struct server *server = servers[handle];
    servers[handle] = NULL;
    pthread_mutex_unlock(&servers_lock);
    if (!server) return;
    server->stopping = 1;
    shutdown(server->listener, SHUT_RDWR);
    close(server->listener);
    /* The context and the struct stay: connections in progress still use them. */
}
