// Network attacks run inside the sandbox by the network mediation tests. Each mode prints
// `key=value` lines; errors are printed as errno names so tests can compare them.
//   netprobe sockets                         raw, packet, netlink sockets and io_uring
//   netprobe sendmsg HOST PORT               UDP sendmsg with an address
//   netprobe race ALLOWED_PORT DENIED_PORT N a thread flips the port while connect loops
//   netprobe connect HOST PORT               blocking connect, prints the first line read
//   netprobe fdswap DENIED_PORT N            fd and address swapped during connect
//   netprobe scm                             SCM_RIGHTS through mediated sendmsg
//   netprobe udprace ALLOWED DENIED N        the port flips while sendto loops
//   netprobe srr HOST PORT                   source routing by option and ancillary data
//   netprobe bench-connect HOST PORT N       benchmark: mean connect latency
//   netprobe bench-recv HOST PORT            benchmark: receive throughput
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
    switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    default: { static char b[32]; snprintf(b, sizeof b, "errno%d", e); return b; }
    }
}

static void try_socket(const char *label, int domain, int type, int proto) {
    int s = socket(domain, type, proto);
    printf("%s=%s\n", label, s >= 0 ? "ok" : ename(errno));
    if (s >= 0) close(s);
}

static int sockets(void) {
    try_socket("raw", AF_INET, SOCK_RAW, IPPROTO_ICMP);
    try_socket("raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    try_socket("packet", 17 /* AF_PACKET */, SOCK_RAW, 0);
    try_socket("packet_dgram", 17, SOCK_DGRAM, 0);
    try_socket("inet_packet", AF_INET, 10 /* SOCK_PACKET */, 0);
    try_socket("netlink", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    try_socket("netlink_dgram", AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    try_socket("sctp", AF_INET, SOCK_STREAM, 132);
    try_socket("sctp6", AF_INET6, SOCK_SEQPACKET, 132);
    try_socket("ping", AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    try_socket("mptcp", AF_INET, SOCK_STREAM, 262);
    try_socket("udplite", AF_INET6, SOCK_DGRAM, 136);
    try_socket("tcp_explicit", AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    try_socket("udp_explicit", AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    try_socket("tcp", AF_INET, SOCK_STREAM, 0);
    try_socket("unix", AF_UNIX, SOCK_STREAM, 0);
    // A unix address longer than struct sockaddr_un, full of non-NUL bytes.
    unsigned char big[128];
    memset(big, 'a', sizeof big);
    big[0] = AF_UNIX; big[1] = 0;
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unix_long=%s\n", connect(u, (struct sockaddr *)big, sizeof big) < 0 ? ename(errno) : "ok");
    printf("unix_long110=%s\n", connect(u, (struct sockaddr *)big, 110) < 0 ? ename(errno) : "ok");
    close(u);
    unsigned char params[120];
    memset(params, 0, sizeof params);
    long r = syscall(425 /* io_uring_setup */, 8, params);
    printf("io_uring=%s\n", r >= 0 ? "ok" : ename(errno));
    return 0;
}

static struct sockaddr_in addr4(const char *host, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &a.sin_addr);
    return a;
}

static int send_msg(const char *host, int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = addr4(host, port);
    char payload[] = "exfiltrate";
    struct iovec iov = { payload, sizeof payload - 1 };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &a; m.msg_namelen = sizeof a;
    m.msg_iov = &iov; m.msg_iovlen = 1;
    ssize_t n = sendmsg(s, &m, 0);
    printf("sendmsg=%s\n", n >= 0 ? "ok" : ename(errno));
    struct mmsghdr mm;
    memset(&mm, 0, sizeof mm);
    mm.msg_hdr = m;
    int k = sendmmsg(s, &mm, 1, 0);
    printf("sendmmsg=%s\n", k >= 0 ? "ok" : ename(errno));
    n = sendto(s, payload, sizeof payload - 1, 0, (struct sockaddr *)&a, sizeof a);
    printf("sendto=%s\n", n >= 0 ? "ok" : ename(errno));
    close(s);
    return 0;
}

static struct sockaddr_in race_addr;
static atomic_int race_stop;
static uint16_t race_ports[2];

static void *flipper(void *unused) {
    (void)unused;
    volatile uint16_t *port = &race_addr.sin_port;
    while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
        *port = race_ports[0];
        *port = race_ports[1];
    }
    return NULL;
}

static int race(int allowed, int denied, int rounds) {
    race_addr = addr4("127.0.0.1", allowed);
    race_ports[0] = htons((uint16_t)allowed);
    race_ports[1] = htons((uint16_t)denied);
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    int ok = 0, refused = 0, other = 0;
    for (int i = 0; i < rounds; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&race_addr, sizeof race_addr) == 0) ok++;
        else if (errno == ECONNREFUSED) refused++;
        else other++;
        close(s);
    }
    atomic_store(&race_stop, 1);
    pthread_join(t, NULL);
    printf("race_ok=%d\nrace_refused=%d\nrace_other=%d\n", ok, refused, other);
    return 0;
}

// fdswap: one thread swaps descriptor 100 between a fresh inet socket and a unix socket,
// another flips the address between a unix path (allowed: a listener in the workspace)
// and a denied inet address, while the main thread connects fd 100 in a loop.
static struct sockaddr_storage swap_addr;
static struct sockaddr_un swap_unix;
static struct sockaddr_in swap_inet;

static void *addr_flipper(void *unused) {
    (void)unused;
    volatile int spin;
    while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
        memcpy(&swap_addr, &swap_unix, sizeof swap_unix);
        for (spin = 0; spin < 5000; spin++) {}
        memcpy(&swap_addr, &swap_inet, sizeof swap_inet);
        for (spin = 0; spin < 5000; spin++) {}
    }
    return NULL;
}

static void *fd_flipper(void *unused) {
    (void)unused;
    while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s >= 0) { dup2(s, 100); close(s); }
        int u = socket(AF_UNIX, SOCK_STREAM, 0);
        if (u >= 0) { dup2(u, 100); close(u); }
    }
    return NULL;
}

static void *unix_acceptor(void *arg) {
    int l = *(int *)arg;
    for (;;) { int c = accept(l, NULL, NULL); if (c < 0) return NULL; close(c); }
}

static int fdswap(int denied, int rounds) {
    memset(&swap_unix, 0, sizeof swap_unix);
    swap_unix.sun_family = AF_UNIX;
    char cwd[64];
    if (!getcwd(cwd, sizeof cwd)) return 1;
    snprintf(swap_unix.sun_path, sizeof swap_unix.sun_path, "%s/swap.sock", cwd);
    unlink(swap_unix.sun_path);
    static int l;
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&swap_unix, sizeof swap_unix) < 0 || listen(l, 128) < 0) {
        printf("fdswap_setup=%s\n", ename(errno));
        return 1;
    }
    pthread_t acc, t1, t2;
    pthread_create(&acc, NULL, unix_acceptor, &l);
    swap_inet = addr4("127.0.0.1", denied);
    memcpy(&swap_addr, &swap_inet, sizeof swap_inet);
    pthread_create(&t1, NULL, addr_flipper, NULL);
    pthread_create(&t2, NULL, fd_flipper, NULL);
    while (fcntl(100, F_GETFD) < 0) sched_yield(); // the swapping has begun
    int ok = 0, failed = 0, isconn = 0;
    for (int i = 0; i < rounds; i++) {
        if (connect(100, (struct sockaddr *)&swap_addr, sizeof swap_unix) == 0) ok++;
        else if (errno == EISCONN) { isconn++; failed++; }
        else { if (getenv("NETPROBE_DEBUG")) fprintf(stderr, "fdswap: %s\n", ename(errno)); failed++; }
    }
    atomic_store(&race_stop, 1);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    // Unix connects that reached the listener: new ones, and ones on an already connected socket.
    printf("fdswap_ok=%d\nfdswap_failed=%d\nfdswap_unix=%d\n", ok, failed, ok + isconn);
    return 0;
}

// scm: passes a descriptor over a socketpair with SCM_RIGHTS (sendmsg is mediated), then
// sends a malformed control message.
static int scm(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) { printf("scm=%s\n", ename(errno)); return 1; }
    FILE *f = fopen("scm.txt", "w");
    if (!f) return 1;
    fputs("passed\n", f);
    fclose(f);
    int fd = open("scm.txt", O_RDONLY);
    char byte = 'x';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov; m.msg_iovlen = 1;
    m.msg_control = ctl.buf; m.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sv[0], &m, 0) < 0) { printf("scm=%s\n", ename(errno)); return 0; }
    memset(&ctl, 0, sizeof ctl);
    m.msg_controllen = sizeof ctl.buf;
    if (recvmsg(sv[1], &m, 0) < 0) { printf("scm=recv-%s\n", ename(errno)); return 0; }
    c = CMSG_FIRSTHDR(&m);
    int got = -1;
    if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&got, CMSG_DATA(c), sizeof got);
    char text[16] = {0};
    if (got < 0 || read(got, text, sizeof text - 1) < 0) { printf("scm=no-fd\n"); return 0; }
    char *nl = strchr(text, '\n');
    if (nl) *nl = 0;
    printf("scm=ok:%s\n", text);
    // Malformed: a control header claiming more bytes than the buffer holds.
    memset(&ctl, 0, sizeof ctl);
    m.msg_control = ctl.buf; m.msg_controllen = sizeof ctl.buf;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = 4096;
    printf("scm_malformed=%s\n", sendmsg(sv[0], &m, 0) < 0 ? ename(errno) : "ok");
    c->cmsg_len = 1;
    printf("scm_short=%s\n", sendmsg(sv[0], &m, 0) < 0 ? ename(errno) : "ok");
    return 0;
}

// srr: IPv4 loose source routing through setsockopt and through sendmsg ancillary data.
static int srr(const char *host, int port) {
    struct sockaddr_in a = addr4(host, port);
    unsigned char opts[8] = { 1, 0x83, 7, 4, 127, 0, 0, 9 }; // NOP, LSRR len 7 ptr 4 hop 127.0.0.9
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    printf("srr_setsockopt=%s\n", setsockopt(s, IPPROTO_IP, IP_OPTIONS, opts, sizeof opts) < 0 ? ename(errno) : "ok");
    char payload[] = "x";
    struct iovec iov = { payload, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(8)]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &a; m.msg_namelen = sizeof a;
    m.msg_iov = &iov; m.msg_iovlen = 1;
    m.msg_control = ctl.buf; m.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP; c->cmsg_type = IP_RETOPTS; c->cmsg_len = CMSG_LEN(8);
    memcpy(CMSG_DATA(c), opts, 8);
    printf("srr_cmsg=%s\n", sendmsg(s, &m, 0) < 0 ? ename(errno) : "ok");
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    unsigned char rthdr[24] = { 0, 2, 0, 1 }; // type 0 routing header, one segment
    printf("rthdr_setsockopt=%s\n", setsockopt(s6, IPPROTO_IPV6, IPV6_RTHDR, rthdr, sizeof rthdr) < 0 ? ename(errno) : "ok");
    printf("pktoptions_setsockopt=%s\n", setsockopt(s6, IPPROTO_IPV6, 6 /* IPV6_2292PKTOPTIONS */, rthdr, sizeof rthdr) < 0 ? ename(errno) : "ok");
    int tos = 0x10;
    printf("tos_setsockopt=%s\n", setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos) < 0 ? ename(errno) : "ok");
    close(s); close(s6);
    return 0;
}

// udprace: the port flips while sendto sends datagrams in a loop.
static int udprace(int allowed, int denied, int rounds) {
    race_addr = addr4("127.0.0.1", allowed);
    race_ports[0] = htons((uint16_t)allowed);
    race_ports[1] = htons((uint16_t)denied);
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int ok = 0, refused = 0;
    for (int i = 0; i < rounds; i++) {
        if (sendto(s, "d", 1, 0, (struct sockaddr *)&race_addr, sizeof race_addr) == 1) ok++;
        else refused++;
    }
    atomic_store(&race_stop, 1);
    pthread_join(t, NULL);
    printf("udprace_ok=%d\nudprace_refused=%d\n", ok, refused);
    return 0;
}

static int connect_read(const char *host, int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr4(host, port);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { printf("connect=%s\n", ename(errno)); return 0; }
    char buf[64];
    ssize_t n = read(s, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    printf("connect=ok:%s\n", buf);
    close(s);
    return 0;
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/// Benchmark (not a test): mean microseconds per connect+close over N rounds.
static int bench_connect(const char *host, int port, int rounds) {
    struct sockaddr_in a = addr4(host, port);
    double start = now_us();
    int failed = 0;
    for (int i = 0; i < rounds; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) failed++;
        close(s);
    }
    printf("connect_us=%.1f\nconnect_failed=%d\n", (now_us() - start) / rounds, failed);
    return 0;
}

/// Benchmark: reads until EOF from HOST:PORT, prints MiB/s.
static int bench_recv(const char *host, int port) {
    struct sockaddr_in a = addr4(host, port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { printf("recv=%s\n", ename(errno)); return 1; }
    static char buf[1 << 16];
    double start = now_us();
    long long total = 0;
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0) total += n;
    double secs = (now_us() - start) / 1e6;
    printf("recv_mib=%lld\nrecv_mib_per_s=%.0f\n", total >> 20, (double)(total >> 20) / secs);
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "sockets")) return sockets();
    if (argc >= 4 && !strcmp(argv[1], "sendmsg")) return send_msg(argv[2], atoi(argv[3]));
    if (argc >= 5 && !strcmp(argv[1], "race")) return race(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    if (argc >= 2 && !strcmp(argv[1], "scm")) return scm();
    if (argc >= 5 && !strcmp(argv[1], "udprace")) return udprace(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    if (argc >= 4 && !strcmp(argv[1], "srr")) return srr(argv[2], atoi(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "fdswap")) return fdswap(atoi(argv[2]), atoi(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "connect")) return connect_read(argv[2], atoi(argv[3]));
    if (argc >= 5 && !strcmp(argv[1], "bench-connect")) return bench_connect(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc >= 4 && !strcmp(argv[1], "bench-recv")) return bench_recv(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: netprobe sockets | sendmsg HOST PORT | race A D N | connect HOST PORT\n");
    return 2;
}
