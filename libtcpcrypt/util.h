#ifndef TC_util_H
#define TC_util_H
#endif
