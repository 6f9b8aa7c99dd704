#ifndef TC_init_msg_H
#define TC_init_msg_H
#endif
