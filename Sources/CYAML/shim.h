#ifndef KB_CYAML_SHIM_H
#define KB_CYAML_SHIM_H
#include <yaml.h>
#endif
