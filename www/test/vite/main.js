import * as kiln from '@kiln-ml/kiln';
import { main } from '../app.mjs';

main(kiln);
