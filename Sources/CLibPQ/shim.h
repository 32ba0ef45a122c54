#ifndef WALBRIDGE_CLIBPQ_SHIM_H
#define WALBRIDGE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <malloc.h>
#endif
