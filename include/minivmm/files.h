/*
 * files.h: files minivmm creates for its user (lib/files.c).
 */
#ifndef MINIVMM_FILES_H
#define MINIVMM_FILES_H

/* Creates (or truncates) a file the VMM writes for its user alone: exit logs and captures hold
 * guest data (console bytes, frames). Mode 0600 whatever the umask, an existing file of ours
 * made 0600 too, and never through a symbolic link (O_NOFOLLOW: -ELOOP), so a link planted at
 * the path cannot make us truncate its target. The fd, or -errno. */
int open_private(const char *path);

#endif
