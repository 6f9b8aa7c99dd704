#ifndef TC_frame_H
#define TC_frame_H
#endif
