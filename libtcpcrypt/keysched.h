#ifndef TC_keysched_H
#define TC_keysched_H
#endif
