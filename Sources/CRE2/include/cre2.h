#ifndef KB_CRE2_H
#define KB_CRE2_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An RE2 program; opaque to Swift.
typedef struct kb_re2 kb_re2;

enum {
    KB_RE2_CASE_INSENSITIVE = 1,
    /// `^` and `$` match at line starts and ends.
    KB_RE2_MULTILINE = 2,
};

enum {
    KB_RE2_UNANCHORED = 0,
    KB_RE2_ANCHOR_START = 1,
};

/// Compiles a UTF-8 pattern. Returns NULL only when out of memory; otherwise check `kb_re2_ok`.
/// `max_mem` caps the memory of the compiled program and its DFA caches, in bytes.
kb_re2 *kb_re2_compile(const char *pattern, size_t length, int flags, long long max_mem);

/// Whether the pattern compiled.
int kb_re2_ok(const kb_re2 *re);

/// RE2's error message, "" when compiled.
const char *kb_re2_error(const kb_re2 *re);

/// The part of the pattern the error is about, "" when unknown.
const char *kb_re2_error_fragment(const kb_re2 *re);

/// Number of capturing groups.
int kb_re2_groups(const kb_re2 *re);

/// Searches `text[start..<length]` (the bytes before `start` are context for `^` and `\b`).
/// On a match fills `offsets` with `2 * slots` byte offsets (begin, end), -1 for a group that did
/// not take part, and returns 1; returns 0 when there is no match.
int kb_re2_match(const kb_re2 *re, const char *text, size_t length, size_t start, int anchor,
                 long long *offsets, int slots);

void kb_re2_free(kb_re2 *re);

#ifdef __cplusplus
}
#endif

#endif
