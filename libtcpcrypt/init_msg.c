/* init_msg.c: placeholder */
#include "config.h"
