#ifndef TESSERA_CGRAPHVIZ_SHIM_H
#define TESSERA_CGRAPHVIZ_SHIM_H
#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>
#endif
