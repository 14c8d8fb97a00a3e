// The only C++ in kb: a C face over RE2 so that Swift sees plain functions and an opaque pointer.
#include "cre2.h"

#include <re2/re2.h>

#include <new>
#include <string>
#include <vector>

struct kb_re2 {
    re2::RE2 *re;
};

static re2::RE2::Options options_for(int flags, long long max_mem) {
    re2::RE2::Options options;
    options.set_encoding(re2::RE2::Options::EncodingUTF8);
    options.set_case_sensitive((flags & KB_RE2_CASE_INSENSITIVE) == 0);
    options.set_log_errors(false);
    if (max_mem > 0) options.set_max_mem(max_mem);
    return options;
}

extern "C" kb_re2 *kb_re2_compile(const char *pattern, size_t length, int flags, long long max_mem) {
    kb_re2 *out = new (std::nothrow) kb_re2;
    if (out == nullptr) return nullptr;
    std::string source(pattern == nullptr ? "" : pattern, pattern == nullptr ? 0 : length);
    if (flags & KB_RE2_MULTILINE) source = "(?m)" + source;
    out->re = new (std::nothrow) re2::RE2(source, options_for(flags, max_mem));
    if (out->re == nullptr) {
        delete out;
        return nullptr;
    }
    return out;
}

extern "C" int kb_re2_ok(const kb_re2 *re) { return re->re->ok() ? 1 : 0; }

extern "C" const char *kb_re2_error(const kb_re2 *re) { return re->re->error().c_str(); }

extern "C" const char *kb_re2_error_fragment(const kb_re2 *re) { return re->re->error_arg().c_str(); }

extern "C" int kb_re2_groups(const kb_re2 *re) { return re->re->ok() ? re->re->NumberOfCapturingGroups() : 0; }

extern "C" int kb_re2_match(const kb_re2 *re, const char *text, size_t length, size_t start, int anchor,
                            long long *offsets, int slots) {
    if (!re->re->ok() || start > length || slots < 1) return 0;
    std::vector<re2::StringPiece> groups(static_cast<size_t>(slots));
    re2::StringPiece subject(text == nullptr ? "" : text, length);
    re2::RE2::Anchor how = anchor == KB_RE2_ANCHOR_START ? re2::RE2::ANCHOR_START : re2::RE2::UNANCHORED;
    if (!re->re->Match(subject, start, length, how, groups.data(), slots)) return 0;
    for (int i = 0; i < slots; i++) {
        const re2::StringPiece &g = groups[static_cast<size_t>(i)];
        if (g.data() == nullptr) {
            offsets[2 * i] = -1;
            offsets[2 * i + 1] = -1;
        } else {
            offsets[2 * i] = static_cast<long long>(g.data() - subject.data());
            offsets[2 * i + 1] = offsets[2 * i] + static_cast<long long>(g.size());
        }
    }
    return 1;
}

extern "C" void kb_re2_free(kb_re2 *re) {
    if (re == nullptr) return;
    delete re->re;
    delete re;
}
