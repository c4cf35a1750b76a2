/* Differential conformance client for the configuration API.
 *
 * Usage: client LXCPATH SCRIPT...
 *
 * Compiled once against include/lxc (ABI-compatible with Debian's 5.0 for
 * every entry used here) and run against two libraries through
 * LD_LIBRARY_PATH. Reads scripts, one op per line, and prints one
 * normalised transcript line per op:
 *     <script>:<tag>: <op> <args> => <result>
 * Strings are printed C-escaped between quotes; the private LXCPATH is
 * printed as "$LXCPATH". error_string is never printed (LXC 6 never sets it).
 *
 * Script ops (arguments are C-escaped: \n \r \t \\ \s (space) \0):
 *   new NAME            lxc_container_new(NAME, LXCPATH) (puts the previous one)
 *   set KEY VALUE       set_config_item (VALUE = rest of line, may be empty)
 *   get KEY             get_config_item: length query, then the full value
 *   getlen KEY          get_config_item(c, KEY, NULL, 0)
 *   gettrunc KEY N      get_config_item into an N-byte buffer
 *   clear KEY           clear_config_item
 *   keys [PREFIX]       get_keys (no PREFIX: NULL)
 *   save [NAME]         save_config to LXCPATH/NAME (default "saved"), prints the file
 *   load PATH           load_config; "@NAME" means LXCPATH/NAME
 *   write NAME TEXT     writes TEXT to LXCPATH/NAME (not an API op)
 *   mkdir NAME          creates LXCPATH/NAME (not an API op)
 *   clearall            clear_config
 *   supported KEY       lxc_config_item_is_supported
 *   tag TEXT            sets the tag printed on the following lines (no output)
 *   # ...               comment
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

static const char *lxcpath;
static const char *script;
static char tag[256] = "-";
static struct lxc_container *c;

/* Decodes C escapes in place; returns the decoded length. */
static size_t unescape(char *s)
{
	char *w = s;
	size_t n = 0;
	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1]) {
			r++;
			switch (*r) {
			case 'n': *w++ = '\n'; break;
			case 'r': *w++ = '\r'; break;
			case 't': *w++ = '\t'; break;
			case 's': *w++ = ' '; break;
			case '0': *w++ = '\0'; break;
			default: *w++ = *r; break;
			}
		} else {
			*w++ = *r;
		}
		n++;
	}
	*w = '\0';
	return n;
}

/* Prints s escaped, with the private lxcpath replaced by $LXCPATH. */
static void put_str(const char *s, size_t len)
{
	size_t lp = strlen(lxcpath);
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		if (lp && i + lp <= len && memcmp(s + i, lxcpath, lp) == 0) {
			fputs("$LXCPATH", stdout);
			i += lp - 1;
			continue;
		}
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '"': fputs("\\\"", stdout); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				printf("\\x%02x", ch);
			else
				putchar(ch);
		}
	}
	putchar('"');
}

static void head(const char *op, const char *arg)
{
	printf("%s:%s: %s", script, tag, op);
	if (arg) {
		putchar(' ');
		put_str(arg, strlen(arg));
	}
	fputs(" =>", stdout);
}

static void end(void)
{
	putchar('\n');
	fflush(stdout);
}

static bool need(void)
{
	if (c)
		return true;
	fputs(" NO-CONTAINER", stdout);
	end();
	return false;
}

static void path_of(const char *name, char *out, size_t len)
{
	if (name[0] == '@')
		snprintf(out, len, "%s/%s", lxcpath, name + 1);
	else
		snprintf(out, len, "%s", name);
}

static void print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		printf(" NOFILE");
		return;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	putchar(' ');
	put_str(buf ? buf : "", len);
	free(buf);
}

/* get_config_item, or get_keys when `keys`: the length it asks for, then
 * the text read with that length plus one. */
static void op_sized(const char *arg, bool keys)
{
	head(keys ? "keys" : "get", arg);
	if (!need())
		return;
	int (*get)(struct lxc_container *, const char *, char *, int) = keys ? c->get_keys : c->get_config_item;
	int n = get(c, arg, NULL, 0);
	printf(" len=%d", n);
	if (n >= 0) {
		char *buf = calloc(1, (size_t)n + 1);
		int m = get(c, arg, buf, n + 1);
		if (m != n)
			printf(" ret=%d", m);
		putchar(' ');
		put_str(buf, strlen(buf));
		free(buf);
	}
	end();
}

/* Replaces "$LXCPATH" by the private lxcpath; returns a malloc'd line. */
static char *expand(const char *in)
{
	size_t lp = strlen(lxcpath), cap = strlen(in) + 1, n = 0;
	for (const char *p = in; (p = strstr(p, "$LXCPATH")); p += 8)
		cap += lp;
	char *out = malloc(cap);
	for (const char *p = in; *p;) {
		if (!strncmp(p, "$LXCPATH", 8)) {
			memcpy(out + n, lxcpath, lp);
			n += lp;
			p += 8;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

static void run_line(char *line)
{
	size_t l = strlen(line);
	while (l && line[l - 1] == '\n')
		line[--l] = '\0';
	if (!l || line[0] == '#')
		return;
	char *op = line, *rest = strchr(line, ' ');
	if (rest)
		*rest++ = '\0';
	else
		rest = line + l;

	if (!strcmp(op, "tag")) {
		snprintf(tag, sizeof(tag), "%s", rest);
		return;
	}
	if (!strcmp(op, "new")) {
		if (c)
			lxc_container_put(c);
		unescape(rest);
		c = lxc_container_new(rest, lxcpath);
		head("new", rest);
		printf(" %s", c ? "ok" : "NULL");
		end();
		return;
	}
	if (!strcmp(op, "set")) {
		char *val = strchr(rest, ' ');
		if (val)
			*val++ = '\0';
		else
			val = rest + strlen(rest);
		unescape(rest);
		unescape(val);
		head("set", rest);
		fputs(" ", stdout);
		put_str(val, strlen(val));
		if (!need())
			return;
		bool ok = c->set_config_item(c, rest, val);
		printf(" %s", ok ? "true" : "false");
		end();
		return;
	}
	if (!strcmp(op, "get")) {
		unescape(rest);
		op_sized(rest, false);
		return;
	}
	if (!strcmp(op, "getlen")) {
		unescape(rest);
		head("getlen", rest);
		if (!need())
			return;
		printf(" %d", c->get_config_item(c, rest, NULL, 0));
		end();
		return;
	}
	if (!strcmp(op, "gettrunc")) {
		char *n = strrchr(rest, ' ');
		int sz = n ? atoi(n + 1) : 0;
		if (n)
			*n = '\0';
		unescape(rest);
		head("gettrunc", rest);
		printf(" %d", sz);
		if (!need())
			return;
		char *buf = calloc(1, (size_t)sz + 16);
		memset(buf, 'Z', (size_t)sz + 15);
		int r = c->get_config_item(c, rest, buf, sz);
		printf(" ret=%d ", r);
		/* Bytes beyond the buffer must be untouched. */
		put_str(buf, strnlen(buf, (size_t)sz + 15));
		free(buf);
		end();
		return;
	}
	if (!strcmp(op, "clear")) {
		unescape(rest);
		head("clear", rest);
		if (!need())
			return;
		printf(" %s", c->clear_config_item(c, rest) ? "true" : "false");
		end();
		return;
	}
	if (!strcmp(op, "keys")) {
		if (*rest) {
			unescape(rest);
			op_sized(rest, true);
		} else {
			op_sized(NULL, true);
		}
		return;
	}
	if (!strcmp(op, "save")) {
		char path[4096];
		path_of(*rest ? rest : "@saved", path, sizeof(path));
		if (!*rest)
			rest = "@saved";
		head("save", rest);
		if (!need())
			return;
		unlink(path);
		bool ok = c->save_config(c, path);
		printf(" %s", ok ? "true" : "false");
		if (ok)
			print_file(path);
		end();
		return;
	}
	if (!strcmp(op, "load")) {
		char path[4096];
		unescape(rest);
		path_of(rest, path, sizeof(path));
		head("load", rest);
		if (!need())
			return;
		printf(" %s", c->load_config(c, path) ? "true" : "false");
		end();
		return;
	}
	if (!strcmp(op, "write")) {
		char *text = strchr(rest, ' ');
		if (text)
			*text++ = '\0';
		else
			text = rest + strlen(rest);
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", lxcpath, rest);
		size_t n = unescape(text);
		FILE *f = fopen(path, "w");
		if (f) {
			fwrite(text, 1, n, f);
			fclose(f);
		}
		return;
	}
	if (!strcmp(op, "mkdir")) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", lxcpath, rest);
		mkdir(path, 0755);
		return;
	}
	if (!strcmp(op, "clearall")) {
		head("clearall", NULL);
		if (!need())
			return;
		c->clear_config(c);
		fputs(" done", stdout);
		end();
		return;
	}
	if (!strcmp(op, "supported")) {
		unescape(rest);
		head("supported", rest);
		printf(" %s", lxc_config_item_is_supported(rest) ? "true" : "false");
		end();
		return;
	}
	head("UNKNOWN-OP", op);
	end();
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s LXCPATH SCRIPT...\n", argv[0]);
		return 2;
	}
	lxcpath = argv[1];
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		const char *base = strrchr(argv[i], '/');
		script = base ? base + 1 : argv[i];
		snprintf(tag, sizeof(tag), "-");
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) >= 0) {
			char *x = expand(line);
			run_line(x);
			free(x);
		}
		free(line);
		fclose(f);
		if (c) {
			lxc_container_put(c);
			c = NULL;
		}
	}
	return 0;
}
