/*
 * sock_exec.c - handing a connection's region over across exec (exec.c):
 * export on the old image's side, adopt on the new one's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "libc_syms.h"
#include "log.h"
#include "sock.h"
#include "sock_int.h"

/* ---- exec handover ---- */

/* An fd for the shared memory of the region itself (its VMA in
 * /proc/self/map_files: needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). */
static int region_fd(struct tc_shm *sh)
{
	char path[64];
	uintptr_t b = (uintptr_t)REGION(sh);
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)b,
	         (unsigned long)(b + shm_size));
	fd = open(path, O_RDWR);    /* not O_CLOEXEC: for the new image */
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != shm_size) {
		tc_real_close(fd);
		return -EINVAL;
	}
	return fd;
}

int tc_sock_export(struct tc_sock *s, int *shared)
{
	struct tc_shm *sh = s->shm, *c;
	void *copy;
	int mfd, r = 0;

	if (!sh || STATE(sh) != TC_ST_READY)
		return -EAGAIN;
	/* Best: the new image maps the very memory every holder shares. */
	if ((mfd = region_fd(sh)) >= 0) {
		*shared = 1;
		return mfd;
	}
	/* Else a copy, which only works if this process is the only holder:
	 * two copies of one session would reuse nonces. */
	*shared = 0;
	if (__atomic_load_n(&sh->nprocs, __ATOMIC_ACQUIRE) != 1)
		return -EBUSY;
	mfd = memfd_create("tcpcrypt-session", 0);    /* inherited by the new image */
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)shm_size) < 0 ||
	    (copy = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED) {
		r = -errno;
		tc_real_close(mfd);
		return r;
	}
	lock(&sh->rx_lock);
	lock(&sh->tx_lock);
	lock(&sh->sess_lock);
	if (STATE(sh) == TC_ST_READY) {
		memcpy(copy, REGION(sh), shm_size);
		c = (struct tc_shm *)((uint8_t *)copy + sess_off);
		if (init_mutex(&c->rx_lock) || init_mutex(&c->tx_lock) || init_mutex(&c->sess_lock))
			r = -ENOMEM;
		c->nprocs = 1;
		c->shared = 1;
		if (r == 0) {
			/* The session now belongs to the new image only: whoever
			 * else holds this copy must never seal with it again. */
			sh->error = ECONNABORTED;
			SET_STATE(sh, TC_ST_FAILED);
		}
	} else {
		r = -EAGAIN;
	}
	unlock(&sh->sess_lock);
	unlock(&sh->tx_lock);
	unlock(&sh->rx_lock);
	if (r < 0)
		sodium_memzero(copy, shm_size);
	munmap(copy, shm_size);
	if (r < 0) {
		tc_real_close(mfd);
		return r;
	}
	return mfd;
}

void tc_sock_export_undo(struct tc_sock *s)
{
	struct tc_shm *sh = s->shm;

	sh->error = 0;
	SET_STATE(sh, TC_ST_READY);
}

int tc_sock_adopt(int mfd, struct tc_sock **out)
{
	struct stat st;
	struct tc_shm *sh;
	struct tc_sock *s;
	void *r;

	if (sodium_init() < 0)       /* (this image has not started libsodium yet) */
		return -EIO;
	if (fstat(mfd, &st) < 0 || (size_t)st.st_size != shm_size)
		return -EINVAL;
	r = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (r == MAP_FAILED)
		return -errno;
	sh = (struct tc_shm *)((uint8_t *)r + sess_off);
	if (SHM_READ(sh->size) != shm_size || STATE(sh) != TC_ST_READY ||
	    !(s = tc_sock_new(TC_K_CONN, NULL))) {
		/* (the keys are only ever handed over once set) */
		munmap(r, shm_size);
		return -EINVAL;
	}
	s->shm = sh;
	s->opted_in = 1;
	s->sealed = 1;
	s->was_shared = 1;
	tc_debug("adopted state: rx %zu, plain %zu+%zu, held %d, lowat %d, tx %zu/%zu, pre %zu, nprocs %d",
	         sh->rx_len, sh->plain_off, sh->plain_len, sh->held, sh->lowat, sh->tx_off, sh->tx_len,
	         sh->pre_len, sh->nprocs);
	*out = s;
	return 0;
}
