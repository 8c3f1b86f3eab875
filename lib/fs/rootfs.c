/*
 * The file system the application starts with: ramfs on "/", devfs on
 * /dev, an empty /tmp, the initrd (every boot module, a newc cpio
 * archive) unpacked into "/", the mounts the `mount=` kernel options ask
 * for, and descriptors 0, 1 and 2 open on /dev/console.  Boot-time glue
 * only: the file systems themselves live in their own files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#include "lib/fs/vfs.h"
#include "lib/kernel/bootinfo.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"

#define BOOT_MOUNTS_MAX 8

static const char *boot_mounts[BOOT_MOUNTS_MAX];
static unsigned nboot_mounts;

int
fs_opt_mount(const char *v)
{
	if (!v || !kstrchr(v, ':'))
		return -EINVAL;
	if (nboot_mounts == BOOT_MOUNTS_MAX)
		return -E2BIG;
	boot_mounts[nboot_mounts++] = v;
	return 0;
}

/* mount=SOURCE:DIR:TYPE (TYPE defaults to ramfs); DIR is made if missing. */
static void
boot_mount(const char *spec)
{
	char buf[256], *dir, *type;

	if (kstrlcpy(buf, spec, sizeof(buf)) >= sizeof(buf) ||
	    !(dir = kstrchr(buf, ':'))) {
		pr_err("mount=%s: want SOURCE:DIR:TYPE\n", spec);
		return;
	}
	*dir++ = 0;
	type = kstrchr(dir, ':');
	if (type)
		*type++ = 0;
	if (!type || !*type)
		type = "ramfs";
	int r = vfs_mkdir(NULL, dir, 0755);
	if (!r || r == -EEXIST)
		r = vfs_mount(buf, NULL, dir, type, 0, NULL);
	if (r)
		pr_err("mount=%s: cannot mount %s on %s as %s (error %d)\n", spec,
		       buf, dir, type, -r);
	else
		pr_debug("mounted %s on %s (%s)\n", buf, dir, type);
}

static void
unpack_initrd(const struct boot_module *m)
{
	const char *why;
	const void *data = (const void *)(uintptr_t)m->base;
	int r = cpio_unpack(data, (size_t)m->len, "/", &why);

	if (r)
		pr_err("initrd %s: %s (error %d); the rest of it is ignored\n",
		       m->name[0] ? m->name : "(module)", why, -r);
	else
		pr_debug("initrd %s: %llu bytes unpacked into /\n", m->name,
			 (unsigned long long)m->len);
}

static void
open_console(void)
{
	struct vnode *vn;
	struct file *f;

	if (vfs_open_vnode(NULL, "/dev/console", O_RDWR, 0, &vn) ||
	    !(f = file_new(vn, O_RDWR))) {
		pr_err("cannot open /dev/console for stdin/stdout/stderr\n");
		return;
	}
	for (int fd = 0; fd < 3; fd++)
		fd_install(f, fd, false);
	file_put(f);
}

void
fs_init(const struct boot_info *bi)
{
	vfs_register_fs(&ramfs_type);
	vfs_register_fs(&devfs_type);
	vfs_register_fs(&vfat_type);
	if (vfs_mount_root("ramfs", "rootfs")) {
		pr_err("cannot mount the root file system\n");
		return;
	}
	vfs_mkdir(NULL, "/dev", 0755);
	vfs_mkdir(NULL, "/tmp", 01777);
	int r = vfs_mount("devfs", NULL, "/dev", "devfs", 0, NULL);
	if (r)
		pr_err("cannot mount devfs on /dev (error %d)\n", -r);
	for (unsigned i = 0; i < bi->nmod; i++)
		unpack_initrd(&bi->mod[i]);
	for (unsigned i = 0; i < nboot_mounts; i++)
		boot_mount(boot_mounts[i]);
	open_console();
}
