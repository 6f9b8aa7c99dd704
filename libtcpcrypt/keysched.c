/* keysched.c: placeholder */
#include "config.h"
