# tests/bench/format.awk - turns the rows the benchmark modules print
# (tab-separated; see lib.sh) into Markdown.
#   -v part=table   the results table (columns padded for a terminal)
#   -v part=about   the modules' explanations, one paragraph each
#   -v part=cmd     the command lines, with the scratch directory (-v tmp)
#                   and the floor image's path (-v floor) shortened

BEGIN { FS = "\t" }

# Display width: "µ" is two bytes but one column.
function width(s,   t) { t = s; return length(s) - gsub(/µ/, "", t) }

function pad(s, w) { while (width(s) < w) s = s " "; return s }

function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }

function ratio(t, b,   r) {
	if (!num(t) || !num(b) || b + 0 == 0) return "-"
	r = t / b
	return sprintf(r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.3f", r)
}

function spread(lo, med, hi, n) {
	if (lo == "-") return "-"
	if (n == 0) return "(target)"
	if (n == 1) return med
	return lo " / " med " / " hi
}

# Replaces every "<tmp><module dir>/" by "" and the floor's path by its name.
function shorten(s,   i, rest, j) {
	if (floor != "") {
		while ((i = index(s, floor)) > 0)
			s = substr(s, 1, i - 1) "floor.elf" substr(s, i + length(floor))
	}
	if (tmp == "") return s
	while ((i = index(s, tmp)) > 0) {
		rest = substr(s, i + length(tmp))
		j = index(rest, "/")
		s = substr(s, 1, i - 1) substr(rest, j + 1)
	}
	return s
}

part == "table" && $1 == "row" {
	n++
	cell[n, 1] = $2
	cell[n, 2] = $3
	cell[n, 3] = $6
	cell[n, 4] = $10
	cell[n, 5] = ratio($6, $10)
	cell[n, 6] = $4
	cell[n, 7] = $8
	cell[n, 8] = spread($5, $6, $7, $8)
	cell[n, 9] = spread($9, $10, $11, $12)
	cell[n, 10] = $13
}
part == "about" && $1 == "about" { print $2; print "" }
part == "cmd" && $1 == "cmd" { printf "- %s:\n  `%s`\n", $2, shorten($3) }

END {
	if (part != "table") exit
	split("benchmark|unit|Toro|baseline|Toro/baseline|better|reps|Toro min / median / max|baseline min / median / max|notes", head, "|")
	cols = 10
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
		if (c >= 3 && c <= 7 && c != 6)	# numbers: right-aligned
			dash = substr(dash, 2) ":"
		rule = rule " " dash " |"
	}
	print line
	print rule
	for (r = 1; r <= n; r++) {
		line = "|"
		for (c = 1; c <= cols; c++) {
			v = cell[r, c]
			if (c >= 3 && c <= 7 && c != 6) {
				while (width(v) < w[c]) v = " " v
				line = line " " v " |"
			} else
				line = line " " pad(v, w[c]) " |"
		}
		print line
	}
}
