/* flame.c: stacks in Brendan Gregg's folded format ("root;...;leaf N"),
 * and our own flame graph: a self-contained SVG (no external script or
 * font) where each frame is a rectangle whose width is its share of the
 * samples; hovering shows its name, samples and share (an SVG <title>),
 * clicking zooms into it, clicking the "Reset zoom" label zooms out (a
 * few lines of embedded JavaScript).  It does not symbolise or read
 * recordings. */
#include <stdlib.h>
#include <string.h>

#include "prof.h"

#define SVG_WIDTH 1200
#define SVG_PAD 10
#define FRAME_H 16
#define MIN_FRACTION 0.0002	/* frames narrower than this are left out */

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
folded_print(FILE *out, const struct stacks *st, int per_cpu, int include_idle)
{
	char **lines = calloc(st->n ? st->n : 1, sizeof *lines);
	size_t n = 0;

	if (!lines)
		return -1;
	for (size_t i = 0; i < st->n; i++) {
		const struct sstack *s = &st->st[i];
		if ((s->idle && !include_idle) || s->depth == 0)
			continue;
		size_t len = 16;
		for (int k = 0; k < s->depth; k++)
			len += strlen(st->names[s->ids[k]]) + 1;
		char *l = malloc(len), *p = l;
		if (!l)
			return -1;
		if (per_cpu)
			p += sprintf(p, "cpu%d;", s->cpu);
		for (int k = s->depth - 1; k >= 0; k--) {
			for (const char *q = st->names[s->ids[k]]; *q; q++)
				*p++ = *q == ';' ? ':' : *q;
			if (k)
				*p++ = ';';
		}
		*p = 0;
		lines[n++] = l;
	}
	qsort(lines, n, sizeof *lines, str_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(lines[j], lines[i]))
			j++;
		fprintf(out, "%s %zu\n", lines[i], j - i);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return ferror(out) ? -1 : 0;
}

/* ---------------------------------------------------------------- the tree */
struct node {
	int id;
	size_t count;
	struct node *child, *next;
};

static struct node *
child_of(struct node *parent, int id)
{
	for (struct node *c = parent->child; c; c = c->next)
		if (c->id == id)
			return c;
	struct node *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->id = id;
	c->next = parent->child;
	parent->child = c;
	return c;
}

static void
tree_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		tree_free(n->child);
		free(n);
		n = next;
	}
}

static int
depth_of(const struct node *n)
{
	int d = 0;

	for (const struct node *c = n->child; c; c = c->next) {
		int k = depth_of(c);
		if (k > d)
			d = k;
	}
	return d + 1;
}

static void
xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, out);
		}
	}
}

static unsigned
colour(const char *name)
{
	unsigned h = 2166136261u;

	for (; *name && *name != ' '; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	unsigned r = 205 + h % 50, g = 80 + (h >> 8) % 140, b = 40 + (h >> 16) % 50;
	return r << 16 | g << 8 | b;
}

struct svg {
	FILE *out;
	const struct stacks *st;
	size_t total;
	int height;
};

/* Children are drawn sorted by name, as flame graphs are, so that the
 * same stacks give the same picture. */
static int
node_cmp(const void *a, const void *b, void *st)
{
	const struct stacks *s = st;
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	return strcmp(s->names[x->id], s->names[y->id]);
}

static void
draw(struct svg *g, const struct node *n, size_t x, int depth)
{
	double fx = (double)x / g->total, fw = (double)n->count / g->total;

	if (fw < MIN_FRACTION)
		return;
	if (depth > 0) {
		const char *name = g->st->names[n->id];
		double px = SVG_PAD + fx * SVG_WIDTH, pw = fw * SVG_WIDTH;
		int y = g->height - 2 * FRAME_H - depth * FRAME_H;
		fprintf(g->out, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-n=\"",
			fx, fw, depth);
		xml_text(g->out, name);
		fprintf(g->out, "\"><title>");
		xml_text(g->out, name);
		fprintf(g->out, " (%zu sample%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
			"height=\"%d\" rx=\"2\" fill=\"#%06x\"/><text x=\"%.2f\" y=\"%d\"></text></g>\n",
			n->count, n->count == 1 ? "" : "s", 100.0 * fw, px, y,
			pw > 0.5 ? pw - 0.5 : pw, FRAME_H - 1, colour(name), px + 3, y + FRAME_H - 4);
	}
	size_t nc = 0;
	for (const struct node *c = n->child; c; c = c->next)
		nc++;
	const struct node **kids = malloc((nc ? nc : 1) * sizeof *kids);
	if (!kids)
		return;
	nc = 0;
	for (const struct node *c = n->child; c; c = c->next)
		kids[nc++] = c;
	qsort_r(kids, nc, sizeof *kids, node_cmp, (void *)g->st);
	for (size_t i = 0; i < nc; i++) {
		draw(g, kids[i], x, depth + 1);
		x += kids[i]->count;
	}
	free(kids);
}

static const char svg_script[] =
	"var fs=[].slice.call(document.querySelectorAll('g.f'));\n"
	"function fit(g){var t=g.querySelector('text'),w=+g.querySelector('rect').getAttribute('width'),\n"
	" n=g.getAttribute('data-n'),m=Math.floor((w-6)/7);\n"
	" t.textContent=m<3?'':(n.length<=m?n:n.slice(0,m-2)+'..');}\n"
	"function zoom(z){var x0=z?+z.getAttribute('data-x'):0,w0=z?+z.getAttribute('data-w'):1,\n"
	" d0=z?+z.getAttribute('data-d'):0;\n"
	" fs.forEach(function(g){var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),\n"
	"  d=+g.getAttribute('data-d'),r=g.querySelector('rect'),t=g.querySelector('text'),e=1e-9;\n"
	"  var inside=d>=d0&&x>=x0-e&&x+w<=x0+w0+e,anc=d<d0&&x<=x0+e&&x+w>=x0+w0-e;\n"
	"  if(!inside&&!anc){g.style.display='none';return;}\n"
	"  g.style.display='';var nx=anc?0:(x-x0)/w0,nw=anc?1:w/w0;\n"
	"  r.setAttribute('x',PAD+nx*W);r.setAttribute('width',Math.max(nw*W-0.5,0.1));\n"
	"  t.setAttribute('x',PAD+nx*W+3);fit(g);});}\n"
	"fs.forEach(function(g){g.style.cursor='pointer';\n"
	" g.addEventListener('click',function(ev){zoom(g);ev.stopPropagation();});fit(g);});\n"
	"document.getElementById('reset').addEventListener('click',function(){zoom(null);});\n";

int
flame_svg(FILE *out, const struct stacks *st, const char *title, int include_idle)
{
	struct node root = {.id = -1};
	size_t idle = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct sstack *s = &st->st[i];
		if ((s->idle && !include_idle) || s->depth == 0) {
			idle += s->idle;
			continue;
		}
		struct node *n = &root;
		n->count++;
		for (int k = s->depth - 1; k >= 0 && n; k--)
			if ((n = child_of(n, s->ids[k])))
				n->count++;
	}
	struct svg g = {out, st, root.count ? root.count : 1, 0};
	int levels = depth_of(&root);
	g.height = (levels + 4) * FRAME_H + 20;
	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"Verdana,sans-serif\" font-size=\"12\">\n",
		SVG_WIDTH + 2 * SVG_PAD, g.height, SVG_WIDTH + 2 * SVG_PAD, g.height);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
		"<text x=\"%d\" y=\"20\" font-size=\"16\" text-anchor=\"middle\">", SVG_WIDTH / 2 + SVG_PAD);
	xml_text(out, title);
	fprintf(out, "</text>\n<text x=\"%d\" y=\"38\">%zu samples", SVG_PAD, root.count);
	if (!include_idle)
		fprintf(out, " (%zu idle samples left out)", idle);
	fprintf(out, "; hover for details, click a frame to zoom</text>\n"
		"<text id=\"reset\" x=\"%d\" y=\"38\" text-anchor=\"end\" style=\"cursor:pointer\" "
		"fill=\"#0050a0\">Reset zoom</text>\n", SVG_WIDTH + SVG_PAD);
	draw(&g, &root, 0, 0);
	fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\nvar W=%d,PAD=%d;\n%s]]></script>\n</svg>\n",
		SVG_WIDTH, SVG_PAD, svg_script);
	tree_free(root.child);
	return ferror(out) ? -1 : 0;
}
