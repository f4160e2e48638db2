#include "vpn_system.h"
