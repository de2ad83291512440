/*
 * The boundary between fio's C world and the engine's C++ core.
 *
 * The C shim (diobench_engine.c) includes fio's headers and speaks fio's
 * lifecycle; the core (engine_core.cpp) includes no fio header and knows
 * only requests, descriptors and the policy model. Nothing here throws:
 * every function reports failure through its return value, and the text
 * of the last failure is available from dbe_last_error().
 */
#ifndef DIOBENCH_ENGINE_API_H
#define DIOBENCH_ENGINE_API_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Option values; the numbers are the posval .oval of the option table. */
enum dbe_policy { DBE_POLICY_DISABLED = 0, DBE_POLICY_STANDARD = 1, DBE_POLICY_ALWAYS = 2 };
enum dbe_semantics { DBE_SEMANTICS_2_3 = 0, DBE_SEMANTICS_2_4 = 1 };
enum dbe_submit { DBE_SUBMIT_PSYNC = 0, DBE_SUBMIT_URING = 1 };
enum dbe_backend { DBE_BACKEND_AUTO = 0, DBE_BACKEND_EMULATED = 1, DBE_BACKEND_ZFS = 2 };
enum dbe_loop_buffered { DBE_LOOP_KERNEL = 0, DBE_LOOP_PER_PAGE = 1, DBE_LOOP_WHOLE_REQUEST = 2 };

struct dbe_settings {
	int policy;
	int semantics;
	int dio_strict;		/* zfs_dio_strict=1 (2.4 semantics only) */
	int submit;
	int backend;
	int loop_buffered;	/* the modelled loop driver with dio off (emulated backend) */
	unsigned long long recordsize;
	const char *counters;	/* sidecar file, or NULL */
	const char *job_name;
	int jobnum;
	unsigned int iodepth;
	int app_direct;		/* fio direct=1 */
	int app_sync;		/* fio sync=1 */
	int writable;		/* the job writes */
	unsigned long long max_bs;	/* largest request fio will queue */
};

enum dbe_ddir { DBE_READ = 0, DBE_WRITE = 1, DBE_SYNC = 2, DBE_DATASYNC = 3, DBE_OTHER = 4 };
enum dbe_status { DBE_COMPLETED = 0, DBE_QUEUED = 1, DBE_BUSY = 2 };

struct dbe_engine;
struct dbe_file;

/* Returns NULL on failure; the reason is copied into err. */
struct dbe_engine *dbe_create(const struct dbe_settings *s, char *err, size_t errlen);
/* Appends the job's counters to the sidecar (if any) and frees everything;
 * 0, or an errno with the reason copied into err. */
int dbe_destroy(struct dbe_engine *e, char *err, size_t errlen);
const char *dbe_last_error(const struct dbe_engine *e);

/* Opens both descriptors of a target; *fio_fd receives the descriptor
 * fio may use itself (cache invalidation, fadvise). 0 or an errno. */
int dbe_open(struct dbe_engine *e, const char *path, struct dbe_file **file, int *fio_fd);
int dbe_close(struct dbe_engine *e, struct dbe_file *file);

/* One fio io_u. On DBE_COMPLETED, *error (0 or errno) and *resid are set. */
int dbe_queue(struct dbe_engine *e, struct dbe_file *file, int ddir, void *buf,
	      unsigned long long len, unsigned long long offset, void *cookie,
	      int *error, unsigned long long *resid);
/* Submits what dbe_queue prepared (uring); 0 or -errno. */
int dbe_commit(struct dbe_engine *e);
/* Reaps at least min completions (at most max); returns the count or -errno. */
int dbe_getevents(struct dbe_engine *e, unsigned int min, unsigned int max,
		  const struct timespec *t);
/* The i-th completion of the last dbe_getevents: the cookie given to dbe_queue. */
void *dbe_event(struct dbe_engine *e, int i, int *error, unsigned long long *resid);

#ifdef __cplusplus
}
#endif

#endif
