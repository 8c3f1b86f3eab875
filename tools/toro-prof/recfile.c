/* recfile.c: the recording file, written while sampling and read by the
 * reports.  It is line-oriented text so that a person (or awk) can read
 * it; toro-prof(1) documents it:
 *
 *   toro-prof recording 1
 *   image PATH            the image the guest runs
 *   image-id HEX          FNV-1a 64 of its executable segments
 *   method gdb|qmp|in-guest
 *   cpus N
 *   rate HZ               requested sampling rate (rounds per second)
 *   s T CPU PC...         a sample: seconds, vCPU, RIP then return addresses
 *   end duration=S rounds=N achieved=HZ stopped=S lost=N ended-by=WHY
 *
 * In-guest recordings (method in-guest) count samples as rounds and the
 * achieved rate per vCPU; lost= is what the rings overwrote unread.
 *
 * Unknown keys are ignored so that later versions can add some.  It is
 * not a streaming format for other tools: `toro-prof folded` is that. */
#include <stdlib.h>
#include <string.h>

#include "prof.h"

int
rec_write_header(FILE *f, const struct recording *r)
{
	fprintf(f, "toro-prof recording 1\nimage %s\nimage-id %016llx\nmethod %s\ncpus %d\nrate %g\n",
		r->image, (unsigned long long)r->image_id, r->method, r->ncpus, r->rate);
	return ferror(f) ? -1 : 0;
}

int
rec_write_sample(FILE *f, const struct sample *s)
{
	fprintf(f, "s %.6f %d", s->t, s->cpu);
	for (int i = 0; i < s->depth; i++)
		fprintf(f, " %llx", (unsigned long long)s->pcs[i]);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

int
rec_write_trailer(FILE *f, const struct recording *r)
{
	fprintf(f, "end duration=%.6f rounds=%zu achieved=%.1f stopped=%.6f lost=%zu ended-by=%s\n",
		r->duration, r->n, r->achieved, r->stopped, r->lost,
		r->ended_by_guest ? "guest" : "duration");
	return fflush(f) || ferror(f) ? -1 : 0;
}

static int
add_sample(struct recording *r, char *rest)
{
	struct sample s = {0};
	uint64_t pcs[PROF_MAX_DEPTH];
	char *end;

	s.t = strtod(rest, &end);
	if (end == rest)
		return -1;
	rest = end;
	s.cpu = strtol(rest, &end, 10);
	if (end == rest || s.cpu < 0 || s.cpu >= PROF_MAX_CPUS)
		return -1;
	for (rest = end; s.depth < PROF_MAX_DEPTH; rest = end) {
		pcs[s.depth] = strtoull(rest, &end, 16);
		if (end == rest)
			break;
		s.depth++;
	}
	if (s.depth == 0)
		return -1;
	s.pcs = malloc(s.depth * sizeof *s.pcs);
	if (!s.pcs)
		return -1;
	memcpy(s.pcs, pcs, s.depth * sizeof *s.pcs);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		void *p = realloc(r->s, r->cap * sizeof *r->s);
		if (!p) {
			free(s.pcs);
			return -1;
		}
		r->s = p;
	}
	r->s[r->n++] = s;
	if (s.cpu >= r->ncpus)
		r->ncpus = s.cpu + 1;
	return 0;
}

static void
parse_end(struct recording *r, char *rest)
{
	char *p;

	if ((p = strstr(rest, "duration=")))
		r->duration = strtod(p + 9, NULL);
	if ((p = strstr(rest, "achieved=")))
		r->achieved = strtod(p + 9, NULL);
	if ((p = strstr(rest, "stopped=")))
		r->stopped = strtod(p + 8, NULL);
	if ((p = strstr(rest, "lost=")))
		r->lost = strtoull(p + 5, NULL, 10);
	r->ended_by_guest = strstr(rest, "ended-by=guest") != NULL;
}

int
rec_load(struct recording *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	memset(r, 0, sizeof *r);
	if (!f) {
		snprintf(err, errlen, "%s: %m", path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = 0;
		if (lineno == 1) {
			if (strncmp(line, "toro-prof recording ", 20)) {
				snprintf(err, errlen, "%s: not a toro-prof recording", path);
				goto fail;
			}
			continue;
		}
		char *sp = strchr(line, ' ');
		char *rest = sp ? sp + 1 : line + len;
		if (sp)
			*sp = 0;
		if (!strcmp(line, "s")) {
			if (add_sample(r, rest)) {
				snprintf(err, errlen, "%s:%ld: bad sample line", path, lineno);
				goto fail;
			}
		} else if (!strcmp(line, "image")) {
			free(r->image);
			r->image = strdup(rest);
		} else if (!strcmp(line, "image-id")) {
			r->image_id = strtoull(rest, NULL, 16);
		} else if (!strcmp(line, "method")) {
			snprintf(r->method, sizeof r->method, "%s", rest);
		} else if (!strcmp(line, "cpus")) {
			int n = atoi(rest);
			if (n > r->ncpus && n <= PROF_MAX_CPUS)
				r->ncpus = n;
		} else if (!strcmp(line, "rate")) {
			r->rate = strtod(rest, NULL);
		} else if (!strcmp(line, "end")) {
			parse_end(r, rest);
		}
	}
	if (lineno == 0) {
		snprintf(err, errlen, "%s: empty file, not a toro-prof recording", path);
		goto fail;
	}
	free(line);
	fclose(f);
	return 0;
fail:
	free(line);
	fclose(f);
	rec_free(r);
	return -1;
}

void
rec_free(struct recording *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->s[i].pcs);
	free(r->s);
	free(r->image);
	memset(r, 0, sizeof *r);
}
