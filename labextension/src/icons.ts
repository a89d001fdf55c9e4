import { LabIcon } from '@jupyterlab/ui-components';

import mlopsSvgstr from '../style/icons/mlops.svg';

/**
 * The MLOps sidebar icon.
 */
export const mlopsIcon = new LabIcon({
  name: 'mlops-lab:mlops',
  svgstr: mlopsSvgstr
});
