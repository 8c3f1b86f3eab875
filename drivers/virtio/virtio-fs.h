/*
 * What the pieces of the virtio-fs client share and nobody else sees: the
 * device and its FUSE session (virtio-fs.c), the "virtiofs" file-system
 * type with its node table and handles (virtio-fs-node.c), and the vnode
 * operations (virtio-fs-ops.c).
 */
#ifndef TORO_VIRTIO_FS_H
#define TORO_VIRTIO_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/virtio.h"
#include "lib/dev/dedicate.h"
#include "lib/fs/fuse.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/spinlock.h"
#include "lib/sched/kmutex.h"

#define VIOFS_TAG_LEN		36
#define VIOFS_HASH_SIZE		64

struct viofs_mount;

/* A device (a page of its own), known by its tag. */
struct viofs {
	struct virtio_dev *vdev;
	struct virtq vq[2];
	struct spinlock lock;		/* both queues, from any core and the interrupt */
	uint32_t space;			/* futex word: bumped when descriptors free up */
	uint32_t space_waiters;
	bool broken;
	uint64_t next_unique;
	struct kmutex init_lock;
	bool session;			/* INIT answered */
	struct fuse_session_params params;
	struct viofs_mount *mounted;
	char tag[VIOFS_TAG_LEN + 1];
	struct dedicated dedicated;	/* as "virtiofs:TAG" */
};

/* A FUSE node: its vnode, lookups counted and handle. */
struct viofs_node {
	struct vnode vn;
	struct viofs_node *hnext;
	uint64_t nodeid;
	uint64_t nlookup;		/* under the mount's table lock */
	struct kmutex lock;		/* fh, appends, the directory buffer */
	uint64_t fh;
	bool has_fh, fh_writable;
	void *dbuf;			/* last READDIR reply */
	uint32_t dlen;
	uint64_t dstart;		/* the offset it was read from */
	bool dvalid;
};

/* A mounted device and its node table. */
struct viofs_mount {
	struct viofs *dev;
	struct spinlock table_lock;
	struct viofs_node *hash[VIOFS_HASH_SIZE];
};

/* virtio-fs.c: the device. */
/* The device whose tag is tag, or NULL. */
struct viofs *viofs_find(const char *tag);
/* Sends c and waits for its reply: the reply's length after the header,
 * or a negative errno (the server's, or -EIO). */
long viofs_call(struct viofs *d, struct fuse_call *c);
/* Tells the server to drop nlookup lookups of nodeid (not the root's). */
void viofs_forget(struct viofs *d, uint64_t nodeid, uint64_t nlookup);
/* FUSE INIT, once per device: d->params from then on. */
int viofs_session_init(struct viofs *d);

/* virtio-fs-node.c: nodes, handles and the file-system type. */
extern const struct fs_type virtiofs_type;

static inline struct viofs_node *
N(struct vnode *vn)
{
	return (struct viofs_node *)vn;
}

static inline struct viofs_mount *
M(struct vnode *vn)
{
	return vn->mnt->priv;
}

static inline struct viofs *
DEV(struct vnode *vn)
{
	return M(vn)->dev;
}

/* The vnode for the node a LOOKUP/CREATE/MKDIR/SYMLINK reply names in
 * dir; the lookup it counted is forgotten if the reply is bad. */
int viofs_node_from_entry(struct vnode *dir, const struct fuse_entry_out *e,
			  struct viofs_node **out);
/* Drops dir's buffered READDIR reply after a change to its entries. */
void viofs_dir_changed(struct vnode *dir);
/* Opens n's handle if it has none (read-write where allowed), or only a
 * read-only one and want_write. */
int viofs_node_open(struct viofs_node *n, bool want_write);
void viofs_release_call(struct viofs_node *n, uint64_t fh);
void viofs_release(struct vnode *vn);

/* virtio-fs-ops.c: the vnode operations. */
extern const struct vnode_ops viofs_ops;
int viofs_getattr(struct vnode *vn, struct stat *st);

#endif
