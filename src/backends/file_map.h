/* A shared, writable mapping of a volume file that follows its growth:
 * payloads the kernel copies in (recv(2), read(2) from a pipe) land in the
 * page cache with no filesystem write path and no file lock.  Used only as
 * the buffer of such system calls, never written from user space, so a
 * page that cannot be written (a full disk under a hole, a file truncated
 * behind our back) fails the call instead of raising SIGBUS. */
#ifndef CB_BACKENDS_FILE_MAP_H
#define CB_BACKENDS_FILE_MAP_H

#include <stdint.h>

struct file_map;

/* The first size bytes of fd (open read-write) mapped; NULL when the
 * kernel refuses (no shared writable mappings on that file system, no
 * address space left), and then writes take write(2). */
struct file_map *file_map_new(int fd, uint64_t size);
/* Maps the first size bytes anew when the volume grew past the mapping,
 * so writes beyond the old end take it too; older mappings stay until
 * file_map_free, as a writer may still be copying into one.  Safe
 * alongside file_map_at from other threads; grow calls are serialised
 * among themselves.  A failure keeps the old mapping. */
void file_map_grow(struct file_map *m, int fd, uint64_t size);
/* Where [offset, offset+length) is mapped; NULL when beyond the mapping. */
char *file_map_at(struct file_map *m, uint64_t offset, uint32_t length);
void file_map_free(struct file_map *m);

#endif
