/* Local sockets for the tests of outbound traffic (HTTP, SMTP): a listener
 * on 127.0.0.1 with an ephemeral port, and reads with a deadline so a
 * client that never comes cannot hang a test. */
#ifndef TZ_TEST_NET_H
#define TZ_TEST_NET_H
#include <check.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A socket listening on 127.0.0.1 with an ephemeral port. */
static inline int tz_listener(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* recv with a deadline: -1 when nothing came within ms. */
static inline ssize_t tz_recv_within(int fd, char *buf, size_t n, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) != 1)
        return -1;
    return recv(fd, buf, n, 0);
}

#endif
