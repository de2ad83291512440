/*
 * diobench: an external fio ioengine that applies OpenZFS's `direct`
 * dataset policy to every request.
 *
 *   fio --ioengine=external:$(diobench engine-path) --policy=always ...
 *
 * This file is the fio side only: fio's lifecycle hooks, the option
 * table and the ops table, in the order of fio's own engines. Each hook
 * translates fio's structures into the small C API of engine_api.h; the
 * policy model, the descriptors and io_uring live in the C++ core, which
 * never sees a fio header (fio 3.33's headers are not C++-clean).
 *
 * Must be compiled against the headers of exactly the installed fio
 * (struct layouts are not versioned) with -include config-host.h, and
 * linked with -z now so that a missing symbol fails when fio loads us.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stddef.h>
#include <stdlib.h>

#include "fio.h"
#include "optgroup.h"

#include "engine_api.h"

/* Options parsed by fio into this struct (td->eo). */
struct diobench_options {
	void *pad;	/* fio requires .off1 != 0: nothing may sit at offset 0 */
	int policy;
	int semantics;
	unsigned int dio_strict;
	int submit;
	int backend;
	int loop_buffered;
	unsigned long long recordsize;
	char *counters;
};

static struct fio_option options[] = {
	{
		.name	= "policy",
		.lname	= "ZFS direct policy",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct diobench_options, policy),
		.help	= "The dataset's direct= property to apply to each request",
		.def	= "standard",
		.posval = {
			  { .ival = "disabled", .oval = DBE_POLICY_DISABLED,
			    .help = "Everything buffered; O_DIRECT is ignored" },
			  { .ival = "standard", .oval = DBE_POLICY_STANDARD,
			    .help = "O_DIRECT requests go direct when page-aligned" },
			  { .ival = "always", .oval = DBE_POLICY_ALWAYS,
			    .help = "Every page-aligned request goes direct" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "semantics",
		.lname	= "OpenZFS release semantics",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct diobench_options, semantics),
		.help	= "The OpenZFS release whose Direct I/O rules apply (docs/design.md 3.2)",
		.def	= "2.3",
		.posval = {
			  { .ival = "2.3", .oval = DBE_SEMANTICS_2_3,
			    .help = "Misaligned O_DIRECT under standard is EINVAL; what cannot go direct stays cached" },
			  { .ival = "2.4", .oval = DBE_SEMANTICS_2_4,
			    .help = "O_DIRECT that cannot go direct is served uncached (commit 734eba251d)" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "zfs_dio_strict",
		.lname	= "OpenZFS zfs_dio_strict",
		.type	= FIO_OPT_BOOL,
		.off1	= offsetof(struct diobench_options, dio_strict),
		.help	= "2.4 only: misaligned app O_DIRECT fails with EINVAL instead of going uncached",
		.def	= "0",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "loop_buffered",
		.lname	= "Modelled loop driver, dio off",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct diobench_options, loop_buffered),
		.help	= "How the emulated backend's loop model hands the backing file a request with dio off (docs/design.md 4.1)",
		.def	= "kernel",
		.posval = {
			  { .ival = "kernel", .oval = DBE_LOOP_KERNEL,
			    .help = "As the running kernel's loop driver does" },
			  { .ival = "per-page", .oval = DBE_LOOP_PER_PAGE,
			    .help = "One page at a time (kernels before Linux commit f2fed441c69b)" },
			  { .ival = "whole-request", .oval = DBE_LOOP_WHOLE_REQUEST,
			    .help = "The whole request in one buffered call (6.12.25+, 6.15+)" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "submit",
		.lname	= "Submission method",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct diobench_options, submit),
		.help	= "How requests reach the kernel",
		.def	= "psync",
		.posval = {
			  { .ival = "psync", .oval = DBE_SUBMIT_PSYNC,
			    .help = "pread/pwrite, one request at a time" },
			  { .ival = "uring", .oval = DBE_SUBMIT_URING,
			    .help = "io_uring, up to iodepth in flight, batched submission" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "backend",
		.lname	= "Policy backend",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct diobench_options, backend),
		.help	= "Who applies the policy",
		.def	= "auto",
		.posval = {
			  { .ival = "auto", .oval = DBE_BACKEND_AUTO,
			    .help = "zfs on a ZFS dataset, emulated elsewhere" },
			  { .ival = "emulated", .oval = DBE_BACKEND_EMULATED,
			    .help = "The engine routes each request itself" },
			  { .ival = "zfs", .oval = DBE_BACKEND_ZFS,
			    .help = "Pass requests through; count the expected split" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "recordsize",
		.lname	= "Dataset recordsize",
		.type	= FIO_OPT_STR_VAL,
		.off1	= offsetof(struct diobench_options, recordsize),
		.help	= "Record size for the write split (a ZFS dataset's own value wins)",
		.def	= "128k",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "counters",
		.lname	= "Path counters file",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct diobench_options, counters),
		.help	= "Append one JSON line of path counters per job to this file",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= NULL,
	},
};

static struct dbe_engine *diobench_get(struct thread_data *td)
{
	return td->io_ops_data;
}

/*
 * init: called once per job, in the job's own process or thread, before
 * any file is opened. Required for us: it builds the C++ core.
 */
static int diobench_init(struct thread_data *td)
{
	struct diobench_options *o = td->eo;
	struct dbe_settings s = {
		.policy		= o->policy,
		.semantics	= o->semantics,
		.dio_strict	= o->dio_strict != 0,
		.submit		= o->submit,
		.backend	= o->backend,
		.loop_buffered	= o->loop_buffered,
		.recordsize	= o->recordsize,
		.counters	= o->counters,
		.job_name	= td->o.name,
		.jobnum		= (int) td->thread_number,
		.iodepth	= td->o.iodepth,
		.app_direct	= td->o.odirect != 0,
		.app_sync	= td->o.sync_io != 0,
		.writable	= td_write(td),
		.max_bs		= td->o.max_bs[DDIR_READ] > td->o.max_bs[DDIR_WRITE] ?
				  td->o.max_bs[DDIR_READ] : td->o.max_bs[DDIR_WRITE],
	};
	char err[256] = "";

	td->io_ops_data = dbe_create(&s, err, sizeof(err));
	if (!td->io_ops_data) {
		log_err("diobench: %s\n", err);
		return 1;
	}
	/*
	 * psync completes each request inside queue(): tell fio so for this
	 * job alone (the ops table is shared by every job), or it would start
	 * the latency clock after the I/O had finished.
	 */
	if (o->submit == DBE_SUBMIT_PSYNC)
		td->flags |= (unsigned long long) FIO_SYNCIO << TD_ENG_FLAG_SHIFT;
	return 0;
}

/*
 * open_file: called for each file before I/O (and again after a close,
 * e.g. before the verify pass). We open two descriptors; fio gets the
 * buffered one in f->fd for its own cache invalidation.
 *
 * fio also calls it before init, from the parent process, only to read a
 * block device's size (create_serialize): that open gets a plain
 * read-only descriptor and no engine state.
 */
static int diobench_open_file(struct thread_data *td, struct fio_file *f)
{
	struct dbe_engine *e = diobench_get(td);
	struct dbe_file *file = NULL;
	int fd = -1;
	int ret;

	if (!e) {
		f->fd = open(f->file_name, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0) {
			td_verror(td, errno, "open_file");
			return 1;
		}
		FILE_SET_ENG_DATA(f, NULL);
		return 0;
	}
	ret = dbe_open(e, f->file_name, &file, &fd);
	if (ret) {
		log_err("diobench: %s\n", dbe_last_error(e));
		td_verror(td, ret, "open_file");
		return 1;
	}
	f->fd = fd;
	FILE_SET_ENG_DATA(f, file);
	return 0;
}

/* close_file: the counterpart of open_file. */
static int diobench_close_file(struct thread_data *td, struct fio_file *f)
{
	int ret;

	if (!FILE_ENG_DATA(f)) {	/* a size-check open (see open_file) */
		ret = f->fd >= 0 && close(f->fd) ? errno : 0;
		f->fd = -1;
		return ret;
	}
	ret = dbe_close(diobench_get(td), FILE_ENG_DATA(f));

	FILE_SET_ENG_DATA(f, NULL);
	f->fd = -1;
	return ret;
}

static int diobench_ddir(enum fio_ddir ddir)
{
	switch (ddir) {
	case DDIR_READ:		return DBE_READ;
	case DDIR_WRITE:	return DBE_WRITE;
	case DDIR_SYNC:		return DBE_SYNC;
	case DDIR_DATASYNC:	return DBE_DATASYNC;
	default:		return DBE_OTHER;
	}
}

/*
 * queue: required. Returns FIO_Q_COMPLETED when the request finished
 * inline (psync, or refused by the policy with EINVAL), FIO_Q_QUEUED when
 * it waits in the ring for commit, FIO_Q_BUSY when the ring is full.
 */
static enum fio_q_status diobench_queue(struct thread_data *td, struct io_u *io_u)
{
	int error = 0;
	unsigned long long resid = 0;
	int status;

	fio_ro_check(td, io_u);

	status = dbe_queue(diobench_get(td), FILE_ENG_DATA(io_u->file),
			   diobench_ddir(io_u->ddir), io_u->xfer_buf,
			   io_u->xfer_buflen, io_u->offset, io_u, &error, &resid);
	if (status == DBE_QUEUED)
		return FIO_Q_QUEUED;
	if (status == DBE_BUSY)
		return FIO_Q_BUSY;
	io_u->error = error;
	io_u->resid = resid;
	return FIO_Q_COMPLETED;
}

/* commit: submits everything queue() prepared, in one system call. */
static int diobench_commit(struct thread_data *td)
{
	return dbe_commit(diobench_get(td));
}

/* getevents: waits for at least min completions, returns how many. */
static int diobench_getevents(struct thread_data *td, unsigned int min,
			      unsigned int max, const struct timespec *t)
{
	return dbe_getevents(diobench_get(td), min, max, t);
}

/* event: the io_u of the i-th completion getevents returned. */
static struct io_u *diobench_event(struct thread_data *td, int event)
{
	int error = 0;
	unsigned long long resid = 0;
	struct io_u *io_u = dbe_event(diobench_get(td), event, &error, &resid);

	if (io_u) {
		io_u->error = error;
		io_u->resid = resid;
	}
	return io_u;
}

/*
 * cleanup: called when the job ends (also after a failed init, with
 * io_ops_data NULL). Writes the counters sidecar line.
 */
static void diobench_cleanup(struct thread_data *td)
{
	struct dbe_engine *e = diobench_get(td);
	char err[256] = "";

	if (e && dbe_destroy(e, err, sizeof(err)))
		log_err("diobench: %s\n", err);
	td->io_ops_data = NULL;
}

/* fio looks this symbol up after dlopen(). */
struct ioengine_ops ioengine = {
	.name			= "diobench",
	.version		= FIO_IOOPS_VERSION,
	.init			= diobench_init,
	.queue			= diobench_queue,
	.commit			= diobench_commit,
	.getevents		= diobench_getevents,
	.event			= diobench_event,
	.cleanup		= diobench_cleanup,
	.open_file		= diobench_open_file,
	.close_file		= diobench_close_file,
	/* Without it fio never learns a file's size and lays it out anew
	 * (truncating and rewriting it) before every job. */
	.get_file_size		= generic_get_file_size,
	.options		= options,
	.option_struct_size	= sizeof(struct diobench_options),
};
