// Linux epoll(7): not exported by Swift's Glibc module.
#include <sys/epoll.h>
