/*
 * Threads on every core (threads.test boots it with -smp 1, 2, 4 and 8):
 * placement and migration through toro/thread.h and POSIX affinity, then
 * musl's pthreads unchanged — mutexes, condition variables, barriers,
 * rwlocks, semaphores, thread-local storage, detached threads, timed
 * waits — with exact counts.  Prints TAP; exits 0 only if every check
 * passed.  With the argument "idle MS", every core's thread just sleeps
 * MS milliseconds (the idle-cost check); with "spin", two threads on one
 * core wait for each other by spinning, which finishes only when the
 * kernel preempts (timeslice=).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <toro/thread.h>

#include "tap.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int ncpu;

/* ------------------------------------------------------------ placement */

static void *
report_in(void *arg)
{
	long want = (long)arg;

	return (void *)(long)(toro_cpu_current() == want &&
			      sched_getcpu() == want);
}

static void
test_placement(void)
{
	pthread_t t[64];
	int good = 0;

	for (long c = 0; c < ncpu; c++)
		if (toro_thread_spawn(&t[c], (int)c, report_in, (void *)c))
			break;
	for (int c = 0; c < ncpu; c++) {
		void *r = NULL;
		pthread_join(t[c], &r);
		good += r != NULL;
	}
	ok(good == ncpu, "every core reports in (%d of %d threads ran where placed)",
	   good, ncpu);
	ok(toro_thread_spawn(&t[0], ncpu, report_in, NULL) == EINVAL,
	   "toro_thread_spawn on core %d (not online) is EINVAL", ncpu);
	ok(toro_thread_spawn(&t[0], -2, report_in, NULL) == EINVAL,
	   "toro_thread_spawn on core -2 is EINVAL");
}

/* Default placement: round-robin from the core after the creator's. */
static void *
where(void *arg)
{
	return (void *)(long)sched_getcpu();
}

static void
test_default_placement(void)
{
	pthread_t t[64];
	int right = 0, n = ncpu * 2 > 64 ? 64 : ncpu * 2;

	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, where, NULL);
	for (int i = 0; i < n; i++) {
		void *r;
		pthread_join(t[i], &r);
		right += (long)r == (sched_getcpu() + 1 + i) % ncpu;
	}
	ok(right == n, "pthread_create spreads %d threads round-robin (%d placed as documented)",
	   n, right);
}

/* ------------------------------------------------------------ migration */

static void *
wanderer(void *arg)
{
	int moved = 0;

	for (int round = 0; round < 3; round++)
		for (int c = ncpu - 1; c >= 0; c--)
			if (toro_thread_migrate(pthread_self(), c) == 0 &&
			    sched_getcpu() == c && toro_cpu_current() == c)
				moved++;
	return (void *)(long)moved;
}

static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static int park_go;

static void *
parked(void *arg)
{
	pthread_mutex_lock(&park_lock);
	while (!park_go)
		pthread_cond_wait(&park_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
	return (void *)(long)sched_getcpu();
}

static void
test_migration(void)
{
	pthread_t t;
	void *r;

	toro_thread_spawn(&t, 0, wanderer, NULL);
	pthread_join(t, &r);
	ok((long)r == 3 * ncpu, "a thread moves itself to every core in turn (%ld of %d moves)",
	   (long)r, 3 * ncpu);

	/* Another thread, blocked: it moves when it wakes. */
	int target = ncpu - 1;
	toro_thread_spawn(&t, 0, parked, NULL);
	usleep(20000);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(target, &set);
	int err = pthread_setaffinity_np(t, sizeof(set), &set);
	cpu_set_t got;
	CPU_ZERO(&got);
	pthread_getaffinity_np(t, sizeof(got), &got);
	pthread_mutex_lock(&park_lock);
	park_go = 1;
	pthread_cond_broadcast(&park_cond);
	pthread_mutex_unlock(&park_lock);
	pthread_join(t, &r);
	ok(err == 0 && CPU_EQUAL(&set, &got) && (long)r == target,
	   "pthread_setaffinity_np moves a blocked thread to core %d (ran on %ld)",
	   target, (long)r);
	CPU_ZERO(&set);
	ok(sched_setaffinity(0, sizeof(set), &set) == -1 && errno == EINVAL,
	   "sched_setaffinity with no online core is EINVAL");
	ok(sched_setaffinity(99999, sizeof(set), &set) == -1 && errno == ESRCH,
	   "sched_setaffinity of an unknown thread is ESRCH");
}

/* ---------------------------------------------------------------- mutex */

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *
incrementer(void *arg)
{
	for (int i = 0; i < 100000; i++) {
		pthread_mutex_lock(&count_lock);
		counter++;
		pthread_mutex_unlock(&count_lock);
	}
	return NULL;
}

static void
test_mutex(void)
{
	pthread_t t[8];

	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, incrementer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ok(counter == 800000, "8 threads x 100000 mutex-protected increments = %ld", counter);
}

/* ------------------------------------------------------ producer/consumer */

#define SLOTS 16
#define ITEMS 20000
static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	long buf[SLOTS];
	int head, count;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER };

static void *
producer(void *arg)
{
	long base = (long)arg * ITEMS;

	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&q.lock);
		while (q.count == SLOTS)
			pthread_cond_wait(&q.not_full, &q.lock);
		q.buf[(q.head + q.count++) % SLOTS] = base + i;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.lock);
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	long sum = 0;

	for (long i = 0; i < ITEMS; i++) {
		pthread_mutex_lock(&q.lock);
		while (q.count == 0)
			pthread_cond_wait(&q.not_empty, &q.lock);
		sum += q.buf[q.head];
		q.head = (q.head + 1) % SLOTS;
		q.count--;
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&q.lock);
	}
	return (void *)sum;
}

static void
test_condvar(void)
{
	pthread_t p[2], c[2];
	long total = 0;

	for (long i = 0; i < 2; i++) {
		pthread_create(&p[i], NULL, producer, (void *)i);
		pthread_create(&c[i], NULL, consumer, NULL);
	}
	for (int i = 0; i < 2; i++) {
		void *r;
		pthread_join(p[i], NULL);
		pthread_join(c[i], &r);
		total += (long)r;
	}
	long n = 2L * ITEMS, want = n * (n + 1) / 2;
	ok(total == want, "condition-variable producer/consumer moves %ld items (sum %ld, want %ld)",
	   n, total, want);
}

/* -------------------------------------------------------------- barrier */

#define ROUNDS 500
static pthread_barrier_t barrier;
static atomic_long arrivals;
static atomic_int barrier_errors;

static void *
barrier_worker(void *arg)
{
	long n = (long)arg;

	for (long r = 1; r <= ROUNDS; r++) {
		atomic_fetch_add(&arrivals, 1);
		pthread_barrier_wait(&barrier);
		/* Everyone has arrived for this round and nobody for the next. */
		if (atomic_load(&arrivals) < r * n)
			atomic_fetch_add(&barrier_errors, 1);
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

static void
test_barrier(void)
{
	long n = 4;
	pthread_t t[4];

	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, barrier_worker, (void *)n);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&arrivals) == n * ROUNDS && atomic_load(&barrier_errors) == 0,
	   "%d barrier rounds of %ld threads: %ld arrivals, %d early departures",
	   ROUNDS, n, atomic_load(&arrivals), atomic_load(&barrier_errors));
	pthread_barrier_destroy(&barrier);
}

/* ----------------------------------------------------- rwlock, semaphore */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static atomic_int rw_torn;

static void *
rw_worker(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		if (i % 4 == 0) {
			pthread_rwlock_wrlock(&rw);
			rw_a++;
			rw_b++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			if (rw_a != rw_b)
				atomic_fetch_add(&rw_torn, 1);
			pthread_rwlock_unlock(&rw);
		}
	}
	return NULL;
}

static sem_t sem_items;
static atomic_long sem_taken;

static void *
sem_taker(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		sem_wait(&sem_items);
		atomic_fetch_add(&sem_taken, 1);
	}
	return NULL;
}

static void
test_rwlock_sem(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, rw_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ok(rw_a == 20000 && rw_b == 20000 && atomic_load(&rw_torn) == 0,
	   "rwlock: 20000 writes, no reader saw a half-done write (%d)", atomic_load(&rw_torn));

	sem_init(&sem_items, 0, 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, sem_taker, NULL);
	for (int i = 0; i < 20000; i++)
		sem_post(&sem_items);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	int left = -1;
	sem_getvalue(&sem_items, &left);
	ok(atomic_load(&sem_taken) == 20000 && left == 0,
	   "semaphore: 20000 posts taken by 2 threads, %d left", left);
}

/* ------------------------------------------------------------------ TLS */

static __thread long tls_value = 7;
static __thread char tls_buf[64];

static void *
tls_worker(void *arg)
{
	long id = (long)arg;
	int good = tls_value == 7;

	tls_value = id;
	snprintf(tls_buf, sizeof(tls_buf), "thread %ld", id);
	usleep(1000 * (id % 3));
	sched_yield();
	char want[64];
	snprintf(want, sizeof(want), "thread %ld", id);
	return (void *)(long)(good && tls_value == id && !strcmp(tls_buf, want));
}

static void
test_tls(void)
{
	pthread_t t[8];
	int good = 0;

	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, tls_worker, (void *)(i + 100));
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		good += r != NULL;
	}
	ok(good == 8 && tls_value == 7, "thread-local storage: 8 threads kept their own copies");
}

/* ----------------------------------------------------- detached, many */

static atomic_int detached_done;

static void *
detached(void *arg)
{
	atomic_fetch_add(&detached_done, 1);
	return NULL;
}

static void *
nothing(void *arg)
{
	return arg;
}

static void
test_lifecycle(void)
{
	pthread_attr_t a;
	pthread_t t;
	int created = 0, joined = 0;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 200; i++)
		created += pthread_create(&t, &a, detached, NULL) == 0;
	for (int i = 0; i < 2000 && atomic_load(&detached_done) < 200; i++)
		usleep(1000);
	ok(created == 200 && atomic_load(&detached_done) == 200,
	   "200 detached threads ran (%d)", atomic_load(&detached_done));

	for (long i = 0; i < 2000; i++) {
		void *r;
		if (pthread_create(&t, NULL, nothing, (void *)i) == 0 &&
		    pthread_join(t, &r) == 0 && (long)r == i)
			joined++;
	}
	ok(joined == 2000, "2000 create/join cycles returned their values (%d)", joined);
}

/* -------------------------------------------------------- timed waits */

static void *
sleeper(void *arg)
{
	long ms = (long)arg;
	double t0 = now_ms();
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	double took = now_ms() - t0;
	return (void *)(long)(took >= ms && took < ms + 400);
}

static void
test_timed(void)
{
	pthread_t t[8];
	int good = 0, n = ncpu < 8 ? ncpu * 2 : 8;

	double t0 = now_ms();
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, sleeper, (void *)(100 + 50 * (i % 3)));
	for (int i = 0; i < n; i++) {
		void *r;
		pthread_join(t[i], &r);
		good += r != NULL;
	}
	double all = now_ms() - t0;
	ok(good == n, "%d threads sleeping 100-200 ms each woke within 400 ms of their time", n);
	ok(all < 1000, "the sleeps overlapped (%.0f ms for all)", all);

	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 50 * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m);
	t0 = now_ms();
	int r = pthread_cond_timedwait(&c, &m, &dl);
	double took = now_ms() - t0;
	pthread_mutex_unlock(&m);
	ok(r == ETIMEDOUT && took >= 45 && took < 450,
	   "pthread_cond_timedwait times out after 50 ms (%d, %.0f ms)", r, took);
}

/* ------------------------------------------------------- idle and spin */

static void *
idle_sleeper(void *arg)
{
	usleep((useconds_t)(long)arg * 1000);
	return NULL;
}

static int
run_idle(long ms)
{
	pthread_t t[64];

	printf("idle: %d threads sleeping\n", ncpu);
	fflush(stdout);
	for (int c = 1; c < ncpu; c++)
		toro_thread_spawn(&t[c], c, idle_sleeper, (void *)ms);
	idle_sleeper((void *)ms);
	for (int c = 1; c < ncpu; c++)
		pthread_join(t[c], NULL);
	printf("idle: %d threads slept %ld ms\n", ncpu, ms);
	return 0;
}

static atomic_int spin_flag;

static void *
spinner(void *arg)
{
	atomic_store(&spin_flag, 1);
	while (atomic_load(&spin_flag) != 2)
		;
	return NULL;
}

static int
run_spin(void)
{
	pthread_t t;

	/* Both on core 0: each waits for the other without a system call. */
	toro_thread_migrate(pthread_self(), 0);
	toro_thread_spawn(&t, 0, spinner, NULL);
	while (atomic_load(&spin_flag) != 1)
		;
	atomic_store(&spin_flag, 2);
	pthread_join(t, NULL);
	printf("spin: both threads got through\n");
	return 0;
}

int
main(int argc, char **argv)
{
	ncpu = toro_cpu_count();
	if (argc > 2 && !strcmp(argv[1], "idle"))
		return run_idle(atol(argv[2]));
	if (argc > 1 && !strcmp(argv[1], "spin"))
		return run_spin();

	printf("cpus: %d\n", ncpu);
	ok(ncpu == sysconf(_SC_NPROCESSORS_ONLN), "toro_cpu_count() = sysconf = %d", ncpu);
	test_placement();
	test_default_placement();
	test_migration();
	test_mutex();
	test_condvar();
	test_barrier();
	test_rwlock_sem();
	test_tls();
	test_lifecycle();
	test_timed();
	return tap_end();
}
