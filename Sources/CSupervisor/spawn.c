#include "vpn_supervisor.h"
