/* Daemonise only once the export is ready, so that when the command
 * returns the device exists, and a failure is the command's exit status.
 * The fork happens before any thread starts. */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

static int ready_fd = -1;

void cli_daemon_fork(void)
{
	int p[2];
	pid_t pid;
	unsigned char status;

	if (pipe2(p, O_CLOEXEC) == -1) {
		cli_error("cannot create a pipe to daemonise");
		exit(EXIT_FAILURE_RUNTIME);
	}
	pid = fork();
	if (pid == -1) {
		cli_error("cannot fork to daemonise");
		exit(EXIT_FAILURE_RUNTIME);
	}
	if (pid > 0) {
		close(p[1]);
		/* EOF without a status byte: the child died before it could say. */
		if (read(p[0], &status, 1) != 1)
			_exit(EXIT_FAILURE_RUNTIME);
		_exit(status);
	}
	close(p[0]);
	ready_fd = p[1];
	setsid();
}

static void report(unsigned char status)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, &status, 1) != 1) {
		/* The parent is gone; nobody is waiting for the answer. */
	}
	close(ready_fd);
	ready_fd = -1;
}

void cli_daemon_ready(void)
{
	int null;

	if (ready_fd < 0)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	cli_log_to_syslog();
	report(EXIT_OK);
}

void cli_daemon_failed(int status)
{
	report((unsigned char)status);
}
