#ifndef TC_aead_H
#define TC_aead_H
#endif
