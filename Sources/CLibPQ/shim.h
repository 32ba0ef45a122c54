#ifndef WALBRIDGE_CLIBPQ_SHIM_H
#define WALBRIDGE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#endif
