/* session.c: placeholder */
#include "config.h"
