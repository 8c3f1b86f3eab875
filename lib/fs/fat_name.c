/*
 * FAT names, pure: no volume and no I/O, only the bytes of entries and
 * strings.  Reading: an entry's 8.3 name as text, the UTF-16 pieces of
 * long-name entries and their checksum, decoded to UTF-8.  Writing: what
 * a new name may be, UTF-8 to UTF-16, the short-name basis of a long
 * name (spec section 7.4) with a ~N tail, and long-name entries packed.
 * Names compare equal ignoring the case of ASCII letters only.  Not for
 * finding entries in a directory (fat_dir.c) nor for deciding which
 * entries a new name takes (fat_dir_change.c).
 */
#include "lib/fs/fat_internal.h"

/* Where a long-name entry keeps its UTF-16 units. */
static const uint8_t lfn_off[FAT_LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22,
						24, 28, 30 };

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

bool
fat_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_upper(a[i]) != ascii_upper(b[i]))
			return false;
	return true;
}

uint8_t
fat_lfn_checksum(const uint8_t *sn)
{
	uint8_t sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sn[i]);
	return sum;
}

/* ------------------------------------------------------------ reading */

/* The short name as text: "NAME.EXT", lower case where the NT flags say. */
size_t
fat_short_name(const uint8_t *e, char *out)
{
	size_t n = 0;
	int b = 8, x = 3;

	while (b > 0 && e[b - 1] == ' ')
		b--;
	while (x > 0 && e[8 + x - 1] == ' ')
		x--;
	for (int i = 0; i < b; i++) {
		char c = i == 0 && e[0] == 0x05 ? 0xE5 : e[i];
		if (e[12] & FAT_NT_LOWER_BASE && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[n++] = (uint8_t)c >= 0x80 || (uint8_t)c < 0x20 ? '_' : c;
	}
	if (x)
		out[n++] = '.';
	for (int i = 0; i < x; i++) {
		char c = e[8 + i];
		if (e[12] & FAT_NT_LOWER_EXT && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[n++] = (uint8_t)c >= 0x80 || (uint8_t)c < 0x20 ? '_' : c;
	}
	out[n] = 0;
	return n;
}

void
fat_lfn_unpack(const uint8_t *e, uint16_t *u)
{
	for (int i = 0; i < FAT_LFN_CHARS; i++)
		u[i] = le16(e + lfn_off[i]);
}

/* As UTF-8; 0 if it is not valid UTF-16 or not a valid name. */
size_t
fat_lfn_to_utf8(const uint16_t *lfn, int units, char *out)
{
	size_t n = 0;

	for (int i = 0; i < units; i++) {
		uint32_t u = lfn[i];
		if (u == 0 || u == 0xFFFF)
			break;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return 0;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 1 >= units || lfn[i + 1] < 0xDC00 ||
			    lfn[i + 1] > 0xDFFF)
				return 0;
			u = 0x10000 + ((u - 0xD800) << 10) + (lfn[++i] - 0xDC00);
		}
		if (u == '/' || u < 0x20)
			return 0;
		if (u < 0x80) {
			out[n++] = u;
		} else if (u < 0x800) {
			out[n++] = 0xC0 | u >> 6;
			out[n++] = 0x80 | (u & 0x3F);
		} else if (u < 0x10000) {
			out[n++] = 0xE0 | u >> 12;
			out[n++] = 0x80 | (u >> 6 & 0x3F);
			out[n++] = 0x80 | (u & 0x3F);
		} else {
			out[n++] = 0xF0 | u >> 18;
			out[n++] = 0x80 | (u >> 12 & 0x3F);
			out[n++] = 0x80 | (u >> 6 & 0x3F);
			out[n++] = 0x80 | (u & 0x3F);
		}
		if (n > FAT_NAME_MAX)
			return 0;
	}
	out[n] = 0;
	return n;
}

/* ------------------------------------------------------------ new names */

/* Decodes UTF-8 into UTF-16; the unit count, or -EINVAL. */
int
fat_utf8_to_utf16(const char *name, size_t len, uint16_t *u)
{
	int n = 0;

	for (size_t i = 0; i < len;) {
		uint8_t c = name[i];
		uint32_t cp;
		int more;
		if (c < 0x80)
			cp = c, more = 0;
		else if ((c & 0xE0) == 0xC0)
			cp = c & 0x1F, more = 1;
		else if ((c & 0xF0) == 0xE0)
			cp = c & 0x0F, more = 2;
		else if ((c & 0xF8) == 0xF0)
			cp = c & 0x07, more = 3;
		else
			return -EINVAL;
		if (len - i - 1 < (size_t)more)
			return -EINVAL;
		for (int k = 1; k <= more; k++) {
			uint8_t cc = name[i + k];
			if ((cc & 0xC0) != 0x80)
				return -EINVAL;
			cp = cp << 6 | (cc & 0x3F);
		}
		static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < min[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -EINVAL;
		i += more + 1;
		if (n + (cp >= 0x10000 ? 2 : 1) > 255)
			return -ENAMETOOLONG;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[n++] = 0xD800 + (cp >> 10);
			u[n++] = 0xDC00 + (cp & 0x3FF);
		} else {
			u[n++] = cp;
		}
	}
	return n;
}

/* A name a new entry may have: 1..255 bytes, no reserved characters. */
int
fat_name_check(const char *name, size_t len)
{
	if (!len)
		return -ENOENT;
	if (len > FAT_NAME_MAX)
		return -ENAMETOOLONG;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EEXIST;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		if (c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' ||
		    c == '<' || c == '>' || c == '?' || c == '\\' || c == '|' || c == 0x7F)
			return -EINVAL;
	}
	if (name[len - 1] == '.' || name[len - 1] == ' ')
		return -EINVAL;	/* other systems would drop them */
	return 0;
}

static bool
short_char_ok(uint8_t c)
{
	static const bool special[0x80] = {
		['$'] = 1, ['%'] = 1, ['\''] = 1, ['-'] = 1, ['_'] = 1, ['@'] = 1,
		['~'] = 1, ['`'] = 1, ['!'] = 1, ['('] = 1, [')'] = 1, ['{'] = 1,
		['}'] = 1, ['^'] = 1, ['#'] = 1, ['&'] = 1,
	};

	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && c < 0x80 && special[c]);
}

/*
 * The 8.3 basis of a long name (spec section 7.4): upper case, invalid
 * characters as '_', spaces and dots dropped.  true if nothing was lost
 * but case, so the basis may be used without a tail.
 */
bool
fat_short_basis(const uint16_t *u, int n, uint8_t *sn, bool *has_lower)
{
	bool lossless = true;
	int dot = -1, i, b = 0, x = 0;

	memset(sn, ' ', 11);
	*has_lower = false;
	for (i = n - 1; i > 0; i--)
		if (u[i] == '.') {
			dot = i;
			break;
		}
	for (i = 0; i < n && (u[i] == '.' || u[i] == ' '); i++)
		lossless = false;
	for (; i < (dot < 0 ? n : dot); i++) {
		uint16_t c = u[i];
		if (c == ' ' || c == '.') {
			lossless = false;
			continue;
		}
		if (b == 8) {
			lossless = false;
			break;
		}
		if (c >= 'a' && c <= 'z')
			*has_lower = true, c -= 'a' - 'A';
		if (c > 0x7F || !short_char_ok(c))
			c = '_', lossless = false;
		sn[b++] = c;
	}
	for (i = dot + 1; dot >= 0 && i < n; i++) {
		uint16_t c = u[i];
		if (c == ' ') {
			lossless = false;
			continue;
		}
		if (x == 3) {
			lossless = false;
			break;
		}
		if (c >= 'a' && c <= 'z')
			*has_lower = true, c -= 'a' - 'A';
		if (c > 0x7F || !short_char_ok(c))
			c = '_', lossless = false;
		sn[8 + x++] = c;
	}
	if (!b) {
		sn[0] = '_';
		lossless = false;
	}
	return lossless;
}

/*
 * Marks in used[] every tail number N for which dir holds basis~N, and
 * says whether it holds the basis itself.
 */
void
fat_tail_note(const uint8_t *sn, const uint8_t *basis, uint8_t *used, bool *exact)
{
	if (!fat_bytes_eq(sn + 8, basis + 8, 3))
		return;
	if (fat_bytes_eq(sn, basis, 8)) {
		*exact = true;
		return;
	}
	int len = 8, t, blen = 8;
	while (len > 0 && sn[len - 1] == ' ')
		len--;
	while (blen > 0 && basis[blen - 1] == ' ')
		blen--;
	for (t = len - 1; t >= 0 && sn[t] != '~'; t--)
		;
	int digits = len - t - 1;
	if (t < 0 || digits < 1 || digits > 5 || sn[t + 1] == '0')
		return;
	uint32_t num = 0;
	for (int i = t + 1; i < len; i++) {
		if (sn[i] < '0' || sn[i] > '9')
			return;
		num = num * 10 + (sn[i] - '0');
	}
	int keep = blen < 7 - digits ? blen : 7 - digits;
	if (t != keep || !fat_bytes_eq(sn, basis, keep) || num > FAT_TAIL_MAX)
		return;
	used[num / 8] |= 1 << num % 8;
}

void
fat_tail_apply(uint8_t *sn, uint32_t num)
{
	char d[8];
	int nd = 0, blen = 8;

	while (blen > 0 && sn[blen - 1] == ' ')
		blen--;
	for (uint32_t k = num; k; k /= 10)
		d[nd++] = '0' + k % 10;
	int keep = blen < 7 - nd ? blen : 7 - nd;
	sn[keep] = '~';
	for (int i = 0; i < nd; i++)
		sn[keep + 1 + i] = d[nd - 1 - i];
	for (int i = keep + 1 + nd; i < 8; i++)
		sn[i] = ' ';
}

void
fat_lfn_pack(uint8_t *e, int ord, bool last, uint8_t sum, const uint16_t *u,
	     int units)
{
	memset(e, 0, FAT_DIRENT_SIZE);
	e[0] = ord | (last ? FAT_LAST_LFN : 0);
	e[11] = FAT_ATTR_LFN;
	e[13] = sum;
	for (int i = 0; i < FAT_LFN_CHARS; i++) {
		int j = (ord - 1) * FAT_LFN_CHARS + i;
		uint16_t c = j < units ? u[j] : j == units ? 0 : 0xFFFF;
		put16(e + lfn_off[i], c);
	}
}
