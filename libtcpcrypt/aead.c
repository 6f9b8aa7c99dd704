/* aead.c: placeholder */
#include "config.h"
