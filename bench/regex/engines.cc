// Times one pattern on one input with RE2 or PCRE2 (JIT, with match and depth limits).
// Usage: engines re2|pcre2 PATTERN_FILE INPUT_FILE
// Prints: engine, milliseconds for one search of the whole input, and the outcome.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re2/re2.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

static std::string slurp(const char *path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (!s.empty() && s.back() == '\n' && std::string(path).find("pattern") != std::string::npos) s.pop_back();
    return s;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: engines re2|pcre2 PATTERN_FILE INPUT_FILE\n");
        return 2;
    }
    std::string engine = argv[1], pattern = slurp(argv[2]), input = slurp(argv[3]);
    auto start = std::chrono::steady_clock::now();
    std::string outcome;
    if (engine == "re2") {
        RE2::Options options;
        options.set_case_sensitive(false);
        options.set_log_errors(false);
        RE2 re("(?m)" + pattern, options);
        if (!re.ok()) {
            outcome = "rejected: " + re.error();
        } else {
            start = std::chrono::steady_clock::now();
            outcome = RE2::PartialMatch(input, re) ? "match" : "no match";
        }
    } else {
        int error = 0;
        PCRE2_SIZE offset = 0;
        pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                         PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_UTF, &error, &offset, nullptr);
        if (code == nullptr) {
            outcome = "rejected";
        } else {
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
            pcre2_match_context *context = pcre2_match_context_create(nullptr);
            pcre2_set_match_limit(context, 10000000);
            pcre2_set_depth_limit(context, 10000);
            pcre2_jit_stack *stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
            pcre2_jit_stack_assign(context, nullptr, stack);
            pcre2_match_data *data = pcre2_match_data_create_from_pattern(code, nullptr);
            start = std::chrono::steady_clock::now();
            int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(input.data()), input.size(), 0, 0, data, context);
            if (rc >= 0) outcome = "match";
            else if (rc == PCRE2_ERROR_NOMATCH) outcome = "no match";
            else if (rc == PCRE2_ERROR_MATCHLIMIT) outcome = "match limit exceeded (error)";
            else if (rc == PCRE2_ERROR_DEPTHLIMIT) outcome = "depth limit exceeded (error)";
            else if (rc == PCRE2_ERROR_JIT_STACKLIMIT) outcome = "JIT stack limit exceeded (error)";
            else outcome = "error " + std::to_string(rc);
            pcre2_match_data_free(data);
            pcre2_jit_stack_free(stack);
            pcre2_match_context_free(context);
            pcre2_code_free(code);
        }
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s\t%.2f\t%s\n", engine.c_str(), ms, outcome.c_str());
    return 0;
}
