/* eno.c: placeholder */
#include "config.h"
