/* frame.c: placeholder */
#include "config.h"
