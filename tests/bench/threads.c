/*
 * Thread microbenchmarks, built unchanged for Toro and for the Linux guest
 * (tests/bench/threads.sh boots both with -smp 1, 2 and 4).  Like micro.c,
 * each benchmark runs in batches for about MS milliseconds of the guest's
 * CLOCK_MONOTONIC (argument 1; 200 when absent) after a warm-up of a
 * quarter of that, and prints one machine-readable line:
 *
 *   RESULT name value unit
 *
 * thread_create_join   pthread_create + pthread_join of an empty thread
 *                      (default placement, main thread unpinned)
 * yield_rt             two threads pinned to core 0 hand a turn back and
 *                      forth with sched_yield(): one round trip
 * futex_wake_rt        threads on cores 0 and 1 hand a turn back and forth
 *                      through a mutex and two condition variables
 * channel_rt           a 64-byte message from core 0 to core 1 and back:
 *                      toro_channel_send/recv on Toro; on Linux, the
 *                      closest equivalent, two pipes
 * malloc_free_N        N threads (N = 1, 2, 4, at most the CPU count),
 *                      each pinned to its own core, each freeing and
 *                      allocating 64-byte blocks among 16 live ones: the
 *                      total of malloc+free pairs per second
 * malloc_2v1           malloc_free_2 / malloc_free_1, same boot
 *
 * Benchmarks that need more CPUs than there are print a NOTE line instead.
 * Threads pin themselves with pthread_setaffinity_np(), which both
 * kernels implement as sched_setaffinity().  Toro is recognised by its
 * headers, which only a Toro build has on its include path.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<toro/thread.h>)
#define BENCH_TORO 1
#endif
#endif
#if defined(BENCH_TORO)
#include <toro/channel.h>
#define BENCH_CHANNEL "toro_channel"
#elif !defined(BENCH_TORO)
#define BENCH_CHANNEL "pipes"
#endif

#define MSG_SIZE 64
#define LIVE_BLOCKS 16

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Keeps the compiler from removing work whose result is unused. */
#define KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

static void
die(const char *what)
{
	printf("ERROR %s\n", what);
	exit(1);
}

/* Runs op in batches for about ms milliseconds; the batches grow until
 * one takes about a millisecond.  Returns the nanoseconds per operation. */
static double
run_for(void (*op)(long), long ms)
{
	long long start = now_ns(), elapsed, limit = ms * 1000000LL;
	long batch = 1, ops = 0;

	do {
		long long t = now_ns();
		op(batch);
		ops += batch;
		if (now_ns() - t < 1000000 && batch < (1L << 24))
			batch *= 2;
		elapsed = now_ns() - start;
	} while (elapsed < limit);
	return (double)elapsed / (double)ops;
}

static double
measure(void (*op)(long), long ms)
{
	run_for(op, ms / 4 + 1);
	return run_for(op, ms);
}

/* Moves the calling thread to core cpu and stays there. */
static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		die("pthread_setaffinity_np");
	if (sched_getcpu() != cpu)
		printf("NOTE pinned to CPU %d but running on %d\n", cpu,
		       sched_getcpu());
}

/* ------------------------------------------------- thread create+join */

static void *
empty(void *arg)
{
	return arg;
}

static void
op_create_join(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *r;

		if (pthread_create(&t, NULL, empty, NULL))
			die("pthread_create");
		pthread_join(t, &r);
		KEEP(r);
	}
}

/* ------------------------------------- pairs: a driver and an echoer */

/*
 * Two threads, each pinned: the driver measures round trips (op) while
 * the echoer answers them (echo) until the driver sets `stop` and calls
 * finish() to release it.
 */
struct pair {
	void (*op)(long);
	void (*echo)(void);
	void (*finish)(void);
	int cpu[2];
	long ms;
	double ns;
};

static volatile int stop;
static struct pair *cur;

static void *
pair_driver(void *arg)
{
	pin(cur->cpu[0]);
	cur->ns = measure(cur->op, cur->ms);
	stop = 1;
	cur->finish();
	return arg;
}

static void *
pair_echoer(void *arg)
{
	pin(cur->cpu[1]);
	cur->echo();
	return arg;
}

static double
pair_run(struct pair *p)
{
	pthread_t a, b;

	cur = p;
	stop = 0;
	if (pthread_create(&b, NULL, pair_echoer, NULL) ||
	    pthread_create(&a, NULL, pair_driver, NULL))
		die("pthread_create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return p->ns;
}

/* yield: a turn word, passed by sched_yield() on one core. */
static volatile int turn;

static void
op_yield(long n)
{
	for (long i = 0; i < n; i++) {
		turn = 1;
		while (turn != 0)
			sched_yield();
	}
}

static void
echo_yield(void)
{
	for (;;) {
		while (turn != 1) {
			if (stop)
				return;
			sched_yield();
		}
		turn = 0;
	}
}

static void
finish_nothing(void)
{
}

/* futex: the turn word under a mutex, one condition variable a side. */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_echoer = PTHREAD_COND_INITIALIZER;
static pthread_cond_t to_driver = PTHREAD_COND_INITIALIZER;

static void
op_cond(long n)
{
	pthread_mutex_lock(&mtx);
	for (long i = 0; i < n; i++) {
		turn = 1;
		pthread_cond_signal(&to_echoer);
		while (turn != 0)
			pthread_cond_wait(&to_driver, &mtx);
	}
	pthread_mutex_unlock(&mtx);
}

static void
echo_cond(void)
{
	pthread_mutex_lock(&mtx);
	for (;;) {
		while (turn != 1 && !stop)
			pthread_cond_wait(&to_echoer, &mtx);
		if (stop)
			break;
		turn = 0;
		pthread_cond_signal(&to_driver);
	}
	pthread_mutex_unlock(&mtx);
}

static void
finish_cond(void)
{
	pthread_mutex_lock(&mtx);
	pthread_cond_signal(&to_echoer);
	pthread_mutex_unlock(&mtx);
}

#ifdef BENCH_CHANNEL
/* channel: a 64-byte message to the other core and back; its first byte
 * is 1 in the last message, which the echoer does not answer. */
#ifdef BENCH_TORO
static void
chan_send(int to, const char *m)
{
	if (toro_channel_send(to, m, MSG_SIZE, 0) != 0)
		die("toro_channel_send");
}

static void
chan_recv(int from, char *m)
{
	if (toro_channel_recv(from, NULL, m, MSG_SIZE, 0) != MSG_SIZE)
		die("toro_channel_recv");
}

static void
chan_open(void)
{
}
#else
static int down[2], up[2];	/* driver -> echoer, echoer -> driver */

static void
chan_send(int to, const char *m)
{
	if (write(to == cur->cpu[1] ? down[1] : up[1], m, MSG_SIZE) != MSG_SIZE)
		die("write");
}

static void
chan_recv(int from, char *m)
{
	int fd = from == cur->cpu[0] ? down[0] : up[0];

	for (size_t got = 0; got < MSG_SIZE;) {
		ssize_t r = read(fd, m + got, MSG_SIZE - got);
		if (r <= 0)
			die("read");
		got += (size_t)r;
	}
}

static void
chan_open(void)
{
	if (pipe(down) || pipe(up))
		die("pipe");
}
#endif

static void
op_channel(long n)
{
	char m[MSG_SIZE];

	memset(m, 0, sizeof(m));
	for (long i = 0; i < n; i++) {
		chan_send(cur->cpu[1], m);
		chan_recv(cur->cpu[1], m);
	}
}

static void
echo_channel(void)
{
	char m[MSG_SIZE];

	for (;;) {
		chan_recv(cur->cpu[0], m);
		if (m[0])
			return;
		chan_send(cur->cpu[0], m);
	}
}

static void
finish_channel(void)
{
	char m[MSG_SIZE];

	memset(m, 0, sizeof(m));
	m[0] = 1;
	chan_send(cur->cpu[1], m);
}
#endif

/* --------------------------------------------------------- malloc/free */

struct mworker {
	pthread_t t;
	int cpu;
	long ms;
	double ops_per_s;
};

static pthread_barrier_t mbarrier;

/* One malloc+free pair per step, among LIVE_BLOCKS live blocks, so that
 * the block freed is not the one just allocated. */
static void
malloc_steps(void **live, long n, unsigned *k)
{
	for (long i = 0; i < n; i++) {
		unsigned s = (*k)++ % LIVE_BLOCKS;
		free(live[s]);
		live[s] = malloc(64);
		if (!live[s])
			die("malloc");
		KEEP(live[s]);
	}
}

static double
malloc_run(void **live, unsigned *k, long ms)
{
	long long start = now_ns(), elapsed, limit = ms * 1000000LL;
	long batch = 16, ops = 0;

	do {
		long long t = now_ns();
		malloc_steps(live, batch, k);
		ops += batch;
		if (now_ns() - t < 1000000 && batch < (1L << 24))
			batch *= 2;
		elapsed = now_ns() - start;
	} while (elapsed < limit);
	return (double)ops * 1e9 / (double)elapsed;
}

static void *
malloc_worker(void *arg)
{
	struct mworker *w = arg;
	void *live[LIVE_BLOCKS] = { 0 };
	unsigned k = 0;

	pin(w->cpu);
	malloc_run(live, &k, w->ms / 4 + 1);	/* warm-up */
	pthread_barrier_wait(&mbarrier);
	w->ops_per_s = malloc_run(live, &k, w->ms);
	for (int i = 0; i < LIVE_BLOCKS; i++)
		free(live[i]);
	return NULL;
}

/* Millions of malloc+free pairs per second, n threads together. */
static double
malloc_total(int n, long ms)
{
	struct mworker w[4];
	double total = 0;

	pthread_barrier_init(&mbarrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		w[i].cpu = i;
		w[i].ms = ms;
		if (pthread_create(&w[i].t, NULL, malloc_worker, &w[i]))
			die("pthread_create");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].ops_per_s;
	}
	pthread_barrier_destroy(&mbarrier);
	return total / 1e6;
}

int
main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 200;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	double m1 = 0, m2 = 0;

	if (ms <= 0) {
		fprintf(stderr, "usage: threads [MILLISECONDS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("NOTE %d CPUs, %ld ms a benchmark\n", ncpu, ms);
	printf("RESULT thread_create_join %.2f k/s\n",
	       1e6 / measure(op_create_join, ms));

	struct pair yield = { op_yield, echo_yield, finish_nothing, { 0, 0 }, ms, 0 };
	printf("RESULT yield_rt %.3f us\n", pair_run(&yield) / 1e3);

	if (ncpu >= 2) {
		struct pair cond = { op_cond, echo_cond, finish_cond, { 0, 1 }, ms, 0 };
		printf("RESULT futex_wake_rt %.3f us\n", pair_run(&cond) / 1e3);
	} else {
		printf("NOTE futex_wake_rt skipped: needs 2 CPUs\n");
	}

#ifdef BENCH_CHANNEL
	if (ncpu >= 2) {
		struct pair chan = { op_channel, echo_channel, finish_channel, { 0, 1 }, ms, 0 };
		cur = &chan;
		chan_open();
		printf("NOTE channel_rt through %s\n", BENCH_CHANNEL);
		printf("RESULT channel_rt %.3f us\n", pair_run(&chan) / 1e3);
	} else {
		printf("NOTE channel_rt skipped: needs 2 CPUs\n");
	}
#else
	printf("NOTE channel_rt skipped: built without toro/channel.h\n");
#endif

	for (int n = 1; n <= 4 && n <= ncpu; n *= 2) {
		double m = malloc_total(n, ms);
		printf("RESULT malloc_free_%d %.3f Mops/s\n", n, m);
		if (n == 1)
			m1 = m;
		if (n == 2)
			m2 = m;
	}
	if (m1 > 0 && m2 > 0)
		printf("RESULT malloc_2v1 %.3f x\n", m2 / m1);
	return 0;
}
