/*
 * peak-rss: runs argv[1..] (stdin, stdout and stderr passed through) and
 * prints on stderr, last line, "peak-rss-kb N": the largest resident set of
 * any process it waited for (getrusage RUSAGE_CHILDREN). Used by the CNI
 * measure (measure.ts). In C because the kernel charges a child with its
 * parent's resident set until exec: a python or node wrapper would put a
 * 10-50 MB floor under a forwarder that needs ~1 MB.
 *
 * Build: cc -O2 -o peak-rss peak-rss.c
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: peak-rss PROGRAM [ARG]...\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("peak-rss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("peak-rss: exec");
		_exit(127);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) < 0) {
		perror("peak-rss: waitpid");
		return 2;
	}
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "peak-rss-kb %ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
