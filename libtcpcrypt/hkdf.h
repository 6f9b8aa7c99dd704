#ifndef TC_hkdf_H
#define TC_hkdf_H
#endif
