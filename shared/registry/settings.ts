/** The registry-file setting of the stages that read the device registry (documented in their READMEs). */
import { z } from 'zod';

export const registryFileEnv = {
  DEVICE_REGISTRY: z
    .string()
    .optional()
    .meta({ description: 'a device registry file; when set it wins over DEVICE_REGISTRY_TOPIC, the central registry (docs/real-engines.md)', docDefault: '$DATA_DIR/devices.json, unless DEVICE_REGISTRY_TOPIC is set' }),
};
