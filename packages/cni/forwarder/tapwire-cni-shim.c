/*
 * tapwire CNI forwarder (thick mode): a CNI plugin executable that does no
 * work itself. It sends the call - its own file name (which plugin: tap,
 * macvtap, tc-redirect-tap), its environment (the CNI_* variables and the
 * rest) and stdin - to the `tapwire cni daemon` on a unix socket, and answers
 * with what the daemon ran: stdout, stderr and the exit code. When the daemon
 * is not there it prints a CNI error with code 11 (try again later).
 *
 * Socket: $TAPWIRE_CNI_SOCKET, else the path compiled in with
 * -DTAPWIRE_CNI_SOCKET='"..."', else /run/tapwire/cni.sock.
 *
 * Wire format (packages/cni/src/thick/protocol.ts is the other end):
 *   request:  "TWCNI1\0" plugin "\0" { "KEY=VALUE\0" } "\0" stdin...   (then EOF)
 *   response: "TWCNI1\0" exit-code "\0" stderr-bytes "\0" stderr stdout... (then EOF)
 *
 * Build: cc -O2 -o tap tapwire-cni-shim.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef TAPWIRE_CNI_SOCKET
#define TAPWIRE_CNI_SOCKET "/run/tapwire/cni.sock"
#endif

#define MAGIC "TWCNI1"
#define CODE_TRY_AGAIN 11

extern char **environ;

struct buf {
	char *data;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (d == NULL) {
			perror("tapwire-cni-shim: realloc");
			exit(1);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_str0(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

/* Reads fd to EOF into b; -1 on a read error. */
static int slurp(int fd, struct buf *b)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		put(b, chunk, (size_t)n);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The config's "cniVersion" string when stdin has one (the error should carry it), else 1.0.0. */
static void cni_version(const struct buf *in, char *out, size_t size)
{
	snprintf(out, size, "1.0.0");
	const char *key = "\"cniVersion\"";
	size_t klen = strlen(key);
	for (size_t i = 0; in->len >= klen && i + klen <= in->len; i++) {
		if (memcmp(in->data + i, key, klen) != 0)
			continue;
		size_t j = i + klen;
		while (j < in->len && (in->data[j] == ' ' || in->data[j] == '\t' || in->data[j] == '\n' || in->data[j] == '\r' || in->data[j] == ':'))
			j++;
		if (j >= in->len || in->data[j] != '"')
			return;
		size_t k = ++j;
		while (k < in->len && k - j < size - 1 && ((in->data[k] >= '0' && in->data[k] <= '9') || in->data[k] == '.'))
			k++;
		if (k < in->len && in->data[k] == '"' && k > j) {
			memcpy(out, in->data + j, k - j);
			out[k - j] = '\0';
		}
		return;
	}
}

static void json_string(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put(b, "\\", 1);
			put(b, s, 1);
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(b, esc, 6);
		} else {
			put(b, s, 1);
		}
	}
	put(b, "\"", 1);
}

/* The CNI error for "the daemon cannot take this call now" on stdout; exit 1. */
static int try_again(const struct buf *in, const char *msg, const char *socket_path, int err)
{
	char version[32];
	char details[512];
	cni_version(in, version, sizeof version);
	snprintf(details, sizeof details, "%s: %s; start it with `tapwire cni daemon --socket %s`", socket_path, strerror(err), socket_path);
	struct buf out = {0};
	put(&out, "{\"cniVersion\":", 14);
	json_string(&out, version);
	put(&out, ",\"code\":11,\"msg\":", 17);
	json_string(&out, msg);
	put(&out, ",\"details\":", 11);
	json_string(&out, details);
	put(&out, "}\n", 2);
	write_all(1, out.data, out.len);
	return 1;
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *socket_path = getenv("TAPWIRE_CNI_SOCKET");
	if (socket_path == NULL || *socket_path == '\0')
		socket_path = TAPWIRE_CNI_SOCKET;

	struct buf in = {0};
	if (slurp(0, &in) < 0 && errno != EBADF) {
		/* An unreadable stdin is sent as empty: the daemon answers it as the plugin would. */
		in.len = 0;
	}

	struct buf req = {0};
	put_str0(&req, MAGIC);
	put_str0(&req, self);
	for (char **e = environ; *e; e++)
		put_str0(&req, *e);
	put(&req, "", 1);
	put(&req, in.data ? in.data : "", in.len);

	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path)
		return try_again(&in, "the tapwire CNI daemon socket path is too long", socket_path, ENAMETOOLONG);
	strcpy(addr.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return try_again(&in, "cannot make a socket to reach the tapwire CNI daemon", socket_path, errno);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return try_again(&in, "the tapwire CNI daemon is not running (thick mode); try again later", socket_path, errno);
	if (write_all(fd, req.data, req.len) < 0 || shutdown(fd, SHUT_WR) < 0)
		return try_again(&in, "the tapwire CNI daemon closed the connection before taking the call", socket_path, errno);

	struct buf res = {0};
	if (slurp(fd, &res) < 0)
		return try_again(&in, "the tapwire CNI daemon connection failed while it ran the call", socket_path, errno);
	close(fd);

	/* MAGIC\0 code\0 stderr-length\0 stderr stdout */
	size_t magic = strlen(MAGIC) + 1;
	char *p = res.data, *end = res.data + res.len;
	if (res.len < magic || memcmp(p, MAGIC, magic) != 0)
		return try_again(&in, "the tapwire CNI daemon ended without answering (it may have stopped during the call)", socket_path, EPROTO);
	p += magic;
	char *code_end = memchr(p, '\0', (size_t)(end - p));
	char *len_end = code_end ? memchr(code_end + 1, '\0', (size_t)(end - code_end - 1)) : NULL;
	if (len_end == NULL)
		return try_again(&in, "the tapwire CNI daemon sent a malformed answer", socket_path, EPROTO);
	int code = atoi(p);
	size_t errlen = strtoul(code_end + 1, NULL, 10);
	char *err = len_end + 1;
	if (errlen > (size_t)(end - err))
		return try_again(&in, "the tapwire CNI daemon sent a malformed answer", socket_path, EPROTO);
	write_all(2, err, errlen);
	write_all(1, err + errlen, (size_t)(end - err - errlen));
	return code;
}
