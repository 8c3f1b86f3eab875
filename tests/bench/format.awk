# tests/bench/format.awk - turns the rows the benchmark modules print
# (tab-separated; see lib.sh) into Markdown.
#   -v part=table   the results table (columns padded for a terminal)
#   -v part=about   the modules' explanations, one paragraph each
#   -v part=md      the modules' own Markdown lines (sections: profiles...)
#   -v part=cmd     the command lines, with the scratch directory (-v tmp),
#                   the floor image's path (-v floor) and the Linux
#                   guest's kernel (-v linux) shortened

BEGIN { FS = "\t" }

# Display width: "µ" is two bytes but one column.
function width(s,   t) { t = s; return length(s) - gsub(/µ/, "", t) }

function pad(s, w) { while (width(s) < w) s = s " "; return s }

function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }

# The advantage of Toro over a baseline, oriented so that higher is
# better: base/toro when lower values are better, toro/base otherwise.
function advantage(t, b, better,   r) {
	if (!num(t) || !num(b) || t + 0 == 0 || b + 0 == 0) return "-"
	r = better == "higher" ? t / b : b / t
	return sprintf(r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : r >= 0.1 ? "%.2f" : "%.2g", r)
}

function spread(lo, med, hi, n) {
	if (lo == "-" || n == 0) return "-"
	if (n == 1) return med
	return lo " / " med " / " hi
}

# Replaces every occurrence of path p in s by its last component.
function basename(s, p,   i, b) {
	if (p == "") return s
	b = p
	sub(/.*\//, "", b)
	while ((i = index(s, p)) > 0)
		s = substr(s, 1, i - 1) b substr(s, i + length(p))
	return s
}

# Replaces every "<tmp><module dir>/" by "" and the floor's and the Linux
# kernel's paths by their names.
function shorten(s,   i, rest, j) {
	s = basename(s, floor)
	s = basename(s, linux)
	if (tmp == "") return s
	while ((i = index(s, tmp)) > 0) {
		rest = substr(s, i + length(tmp))
		j = index(rest, "/")
		s = substr(s, 1, i - 1) substr(rest, j + 1)
	}
	return s
}

# Fields: row NAME UNIT BETTER, Toro MIN MED MAX N, Linux MIN MED MAX N,
# REFKIND, reference MIN MED MAX N, NOTE.
part == "table" && $1 == "row" {
	n++
	cell[n, 1] = $2
	cell[n, 2] = $3
	cell[n, 3] = $4
	cell[n, 4] = $6
	cell[n, 5] = $10
	cell[n, 6] = advantage($6, $10, $4)
	cell[n, 7] = $13 == "-" ? "-" : $15 " (" $13 ")"
	cell[n, 8] = $13 == "-" ? "-" : advantage($6, $15, $4)
	cell[n, 9] = $12 > 0 && $12 != $8 ? $8 "/" $12 : $8
	cell[n, 10] = spread($5, $6, $7, $8)
	cell[n, 11] = spread($9, $10, $11, $12)
	cell[n, 12] = $18
}
part == "about" && $1 == "about" { print $2; print "" }
part == "md" && $1 == "md" { print substr($0, 4) }
part == "cmd" && $1 == "cmd" { printf "- %s:\n  `%s`\n", $2, shorten($3) }

END {
	if (part != "table") exit
	split("benchmark|unit|better|Toro|Linux guest|Toro vs Linux|floor / target|Toro vs floor / target|reps|Toro min / median / max|Linux min / median / max|notes", head, "|")
	cols = 12
	for (c = 1; c <= cols; c++) w[c] = width(head[c])
	for (r = 1; r <= n; r++)
		for (c = 1; c <= cols; c++)
			if (width(cell[r, c]) > w[c]) w[c] = width(cell[r, c])
	line = "|"
	rule = "|"
	for (c = 1; c <= cols; c++) {
		line = line " " pad(head[c], w[c]) " |"
		dash = ""
		while (length(dash) < w[c]) dash = dash "-"
		if (c >= 4 && c <= 9)	# numbers: right-aligned
			dash = substr(dash, 2) ":"
		rule = rule " " dash " |"
	}
	print line
	print rule
	for (r = 1; r <= n; r++) {
		line = "|"
		for (c = 1; c <= cols; c++) {
			v = cell[r, c]
			if (c >= 4 && c <= 9) {
				while (width(v) < w[c]) v = " " v
				line = line " " v " |"
			} else
				line = line " " pad(v, w[c]) " |"
		}
		print line
	}
}
