/* dir: make a directory where an existing one is fine. */
#ifndef POCHTA_DIR_H
#define POCHTA_DIR_H

/* mkdir(path, mode); an existing directory counts as success, anything else
 * in its place fails with ENOTDIR. 0 or -1 (errno). */
int dir_make(const char *path, int mode);

#endif
