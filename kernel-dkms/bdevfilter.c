// SPDX-License-Identifier: GPL-2.0
/*
 * bdevfilter: intercepts the bios submitted to chosen block devices and
 * hands them to a filter module (for example blksnap).
 *
 * The hook is an ftrace callback on submit_bio_noacct() that redirects
 * top-level submissions (current->bio_list == NULL) to
 * bdevfilter_submit_bio(). Bios this module submits itself are recognised
 * by their return address (parent_ip inside this module) and pass through.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/srcu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/build_bug.h>

#include "compat.h"
#include "bdevfilter.h"
#include "include/uapi/linux/bdevfilter.h"

static_assert(sizeof(struct bdevfilter_name) == 40);
static_assert(sizeof(struct bdevfilter_ctl) == 56);

static LIST_HEAD(bdevfilter_ops_list);	/* registered filters */
static LIST_HEAD(bdevfilter_list);	/* attached filters, SRCU readers */
static DEFINE_SPINLOCK(bdevfilter_list_lock);
static DEFINE_MUTEX(bdevfilter_mutex);	/* control paths */
static struct srcu_struct bdevfilter_srcu;

static void bdevfilter_gc(struct work_struct *work);
static DECLARE_WORK(bdevfilter_gc_work, bdevfilter_gc);

static struct bdevfilter *bdevfilter_find(dev_t dev)
{
	struct bdevfilter *flt;

	list_for_each_entry_srcu(flt, &bdevfilter_list, link,
				 srcu_read_lock_held(&bdevfilter_srcu)) {
		if (flt->dev == dev && !READ_ONCE(flt->dead))
			return flt;
	}
	return NULL;
}

/*
 * The redirect target. It runs instead of submit_bio_noacct() for
 * top-level submissions. Its own call of submit_bio_noacct() must not be a
 * tail call: the hook recognises it by the return address inside this
 * module. srcu_read_unlock() after the call keeps it a real call.
 */
static noinline COMPAT_SUBMIT_RET bdevfilter_submit_bio(struct bio *bio)
{
	struct bdevfilter *flt;
	int idx;

	idx = srcu_read_lock(&bdevfilter_srcu);
	flt = bdevfilter_find(bio->bi_bdev->bd_dev);
	if (!flt || !flt->ops->submit_bio(flt, bio))
		submit_bio_noacct(bio);
	srcu_read_unlock(&bdevfilter_srcu, idx);
#ifdef HAVE_SUBMIT_BIO_NOACCT_QC
	return BLK_QC_T_NONE;
#endif
}

/**
 * bdevfilter_resubmit_bio() - submit a bio without filtering it again
 * @bio: the bio a filter consumed or created
 */
noinline void bdevfilter_resubmit_bio(struct bio *bio)
{
	int idx;

	idx = srcu_read_lock(&bdevfilter_srcu);
	submit_bio_noacct(bio);
	srcu_read_unlock(&bdevfilter_srcu, idx);
}
EXPORT_SYMBOL_GPL(bdevfilter_resubmit_bio);

/**
 * bdevfilter_sync() - wait until every submission that entered a filter
 * has left it and reached the device's queue
 */
void bdevfilter_sync(void)
{
	synchronize_srcu(&bdevfilter_srcu);
}
EXPORT_SYMBOL_GPL(bdevfilter_sync);

static void notrace bdevfilter_ftrace(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	if (current->bio_list || within_module(parent_ip, THIS_MODULE))
		return;
	compat_ftrace_set_ip(fregs, (unsigned long)bdevfilter_submit_bio);
}

static struct ftrace_ops bdevfilter_ftrace_ops = {
	.func = bdevfilter_ftrace,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

/*
 * Disk removal: a kprobe on del_gendisk() marks the filters of the disk
 * dead (atomic context) and a work item detaches them.
 */
static int bdevfilter_del_gendisk_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct gendisk *disk = (struct gendisk *)regs_get_kernel_argument(regs, 0);
	struct bdevfilter *flt;
	bool found = false;
	unsigned long flags;

	spin_lock_irqsave(&bdevfilter_list_lock, flags);
	list_for_each_entry(flt, &bdevfilter_list, link) {
		if (flt->disk == disk) {
			WRITE_ONCE(flt->dead, true);
			found = true;
		}
	}
	spin_unlock_irqrestore(&bdevfilter_list_lock, flags);
	if (found)
		schedule_work(&bdevfilter_gc_work);
	return 0;
}

static struct kprobe bdevfilter_del_gendisk_kp = {
	.symbol_name = "del_gendisk",
	.pre_handler = bdevfilter_del_gendisk_pre,
};

/* Called with bdevfilter_mutex held. */
static void bdevfilter_remove(struct bdevfilter *flt)
{
	const struct bdevfilter_operations *ops = flt->ops;
	unsigned long flags;

	spin_lock_irqsave(&bdevfilter_list_lock, flags);
	list_del_rcu(&flt->link);
	spin_unlock_irqrestore(&bdevfilter_list_lock, flags);
	synchronize_srcu(&bdevfilter_srcu);
	pr_info("detached %s from %u:%u\n", ops->name,
		MAJOR(flt->dev), MINOR(flt->dev));
	ops->detach(flt);
	module_put(ops->owner);
	module_put(THIS_MODULE);
}

static void bdevfilter_gc(struct work_struct *work)
{
	struct bdevfilter *flt, *tmp;

	mutex_lock(&bdevfilter_mutex);
	list_for_each_entry_safe(flt, tmp, &bdevfilter_list, link) {
		if (READ_ONCE(flt->dead))
			bdevfilter_remove(flt);
	}
	mutex_unlock(&bdevfilter_mutex);
}

/* Called with bdevfilter_mutex held. */
static struct bdevfilter_operations *bdevfilter_ops_find(const char *name)
{
	struct bdevfilter_operations *ops;

	list_for_each_entry(ops, &bdevfilter_ops_list, link) {
		if (!strcmp(ops->name, name))
			return ops;
	}
	return NULL;
}

/* Called with bdevfilter_mutex held. */
static struct bdevfilter *bdevfilter_attached(dev_t dev)
{
	struct bdevfilter *flt;

	list_for_each_entry(flt, &bdevfilter_list, link) {
		if (flt->dev == dev && !READ_ONCE(flt->dead))
			return flt;
	}
	return NULL;
}

/**
 * bdevfilter_register() - make a filter available to user space
 * @ops: the filter; must stay valid until bdevfilter_unregister()
 */
int bdevfilter_register(struct bdevfilter_operations *ops)
{
	int ret = 0;

	mutex_lock(&bdevfilter_mutex);
	if (bdevfilter_ops_find(ops->name))
		ret = -EEXIST;
	else
		list_add_tail(&ops->link, &bdevfilter_ops_list);
	mutex_unlock(&bdevfilter_mutex);
	if (!ret)
		pr_info("filter %s registered\n", ops->name);
	return ret;
}
EXPORT_SYMBOL_GPL(bdevfilter_register);

/**
 * bdevfilter_unregister() - remove a filter; it has no attachments since
 * every attachment pins the filter's module
 * @ops: the filter
 */
void bdevfilter_unregister(struct bdevfilter_operations *ops)
{
	flush_work(&bdevfilter_gc_work);
	mutex_lock(&bdevfilter_mutex);
	list_del(&ops->link);
	mutex_unlock(&bdevfilter_mutex);
}
EXPORT_SYMBOL_GPL(bdevfilter_unregister);

static int bdevfilter_install(struct bdevfilter_operations *ops,
			      struct block_device *bdev)
{
	struct request_queue *q = bdev_get_queue(bdev);
	struct bdevfilter *flt;
	unsigned long flags;
	int ret;

	flt = ops->attach(bdev);
	if (IS_ERR(flt))
		return PTR_ERR(flt);
	flt->dev = bdev->bd_dev;
	flt->disk = bdev->bd_disk;
	flt->ops = ops;
	flt->dead = false;

	ret = compat_freeze_bdev(bdev);
	if (ret) {
		ops->detach(flt);
		return ret;
	}
	blk_mq_freeze_queue(q);
	spin_lock_irqsave(&bdevfilter_list_lock, flags);
	list_add_tail_rcu(&flt->link, &bdevfilter_list);
	spin_unlock_irqrestore(&bdevfilter_list_lock, flags);
	blk_mq_unfreeze_queue(q);
	compat_thaw_bdev(bdev);
	return 0;
}

static int bdevfilter_attach(dev_t dev, const char *name)
{
	struct bdevfilter_operations *ops;
	struct bdevfilter *flt;
	struct compat_bdev cb;
	int ret;

	ops = bdevfilter_ops_find(name);
	if (!ops)
		return -ENOENT;
	flt = bdevfilter_attached(dev);
	if (flt)
		return flt->ops == ops ? -EALREADY : -EBUSY;
	if (compat_bdev_open(dev, &cb))
		return -ENODEV;
	if (!try_module_get(ops->owner)) {
		ret = -ENOENT;
		goto out_close;
	}
	ret = bdevfilter_install(ops, cb.bdev);
	if (ret) {
		module_put(ops->owner);
		goto out_close;
	}
	__module_get(THIS_MODULE);
	pr_info("attached %s to %u:%u\n", name, MAJOR(dev), MINOR(dev));
out_close:
	compat_bdev_close(&cb);
	return ret;
}

static int bdevfilter_detach(dev_t dev, const char *name)
{
	struct bdevfilter *flt;

	flt = bdevfilter_attached(dev);
	if (!flt || strcmp(flt->ops->name, name))
		return -ENOENT;
	bdevfilter_remove(flt);
	return 0;
}

static int bdevfilter_get_dev(u64 upath, dev_t *dev)
{
	char *path;
	int ret;

	path = strndup_user(u64_to_user_ptr(upath), PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);
	ret = lookup_bdev(path, dev);
	kfree(path);
	return ret == -ENOENT ? -ENODEV : ret;
}

static int bdevfilter_check_name(const u8 *name)
{
	if (!memchr(name, 0, BDEVFILTER_NAME_LENGTH) || !name[0])
		return -EINVAL;
	return 0;
}

static int bdevfilter_ioctl_attach(unsigned int cmd, void __user *arg)
{
	struct bdevfilter_name karg;
	dev_t dev;
	int ret;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	ret = bdevfilter_check_name(karg.name);
	if (ret)
		return ret;
	ret = bdevfilter_get_dev(karg.devpath, &dev);
	if (ret)
		return ret;

	mutex_lock(&bdevfilter_mutex);
	if (cmd == BDEVFILTER_ATTACH)
		ret = bdevfilter_attach(dev, karg.name);
	else
		ret = bdevfilter_detach(dev, karg.name);
	mutex_unlock(&bdevfilter_mutex);
	return ret;
}

static int bdevfilter_ioctl_ctl(struct bdevfilter_ctl __user *arg)
{
	struct bdevfilter_ctl karg;
	struct bdevfilter *flt;
	u32 optlen;
	dev_t dev;
	int ret;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	ret = bdevfilter_check_name(karg.name);
	if (ret)
		return ret;
	ret = bdevfilter_get_dev(karg.devpath, &dev);
	if (ret)
		return ret;

	mutex_lock(&bdevfilter_mutex);
	flt = bdevfilter_attached(dev);
	if (!flt || strcmp(flt->ops->name, karg.name)) {
		ret = -ENOENT;
		goto out_unlock;
	}
	optlen = karg.optlen;
	ret = flt->ops->ctl(flt, karg.cmd, u64_to_user_ptr(karg.opt), &optlen);
	if (put_user(optlen, &arg->optlen))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&bdevfilter_mutex);
	return ret;
}

static long bdevfilter_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case BDEVFILTER_ATTACH:
	case BDEVFILTER_DETACH:
		return bdevfilter_ioctl_attach(cmd, (void __user *)arg);
	case BDEVFILTER_CTL:
		return bdevfilter_ioctl_ctl((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations bdevfilter_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = bdevfilter_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice bdevfilter_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "bdevfilter",
	.fops = &bdevfilter_fops,
};

static int bdevfilter_hook_install(void)
{
	int ret;

	ret = ftrace_set_filter(&bdevfilter_ftrace_ops, "submit_bio_noacct",
				strlen("submit_bio_noacct"), 0);
	if (ret) {
		pr_err("cannot filter ftrace on submit_bio_noacct: %d\n", ret);
		return ret;
	}
	ret = register_ftrace_function(&bdevfilter_ftrace_ops);
	if (ret) {
		pr_err("cannot register the ftrace hook: %d\n", ret);
		ftrace_free_filter(&bdevfilter_ftrace_ops);
	}
	return ret;
}

static void bdevfilter_hook_remove(void)
{
	unregister_ftrace_function(&bdevfilter_ftrace_ops);
	ftrace_free_filter(&bdevfilter_ftrace_ops);
	/* Tasks redirected before the unregister have entered the SRCU section */
	synchronize_rcu_tasks();
	synchronize_srcu(&bdevfilter_srcu);
	/* and the few instructions after srcu_read_unlock() are done. */
	synchronize_rcu_tasks();
}

static int __init bdevfilter_init(void)
{
	int ret;

	ret = init_srcu_struct(&bdevfilter_srcu);
	if (ret)
		return ret;
	ret = register_kprobe(&bdevfilter_del_gendisk_kp);
	if (ret) {
		pr_err("cannot watch del_gendisk: %d\n", ret);
		goto err_srcu;
	}
	ret = bdevfilter_hook_install();
	if (ret)
		goto err_kprobe;
	ret = misc_register(&bdevfilter_misc);
	if (ret)
		goto err_hook;
	pr_info("loaded\n");
	return 0;

err_hook:
	bdevfilter_hook_remove();
err_kprobe:
	unregister_kprobe(&bdevfilter_del_gendisk_kp);
err_srcu:
	cleanup_srcu_struct(&bdevfilter_srcu);
	return ret;
}

static void __exit bdevfilter_exit(void)
{
	misc_deregister(&bdevfilter_misc);
	unregister_kprobe(&bdevfilter_del_gendisk_kp);
	flush_work(&bdevfilter_gc_work);
	bdevfilter_hook_remove();
	cleanup_srcu_struct(&bdevfilter_srcu);
	pr_info("unloaded\n");
}

module_init(bdevfilter_init);
module_exit(bdevfilter_exit);
MODULE_DESCRIPTION("Block device bio filter framework");
MODULE_AUTHOR("blockvault");
MODULE_LICENSE("GPL");
