/* hkdf.c: placeholder */
#include "config.h"
