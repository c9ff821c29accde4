import * as kiln from 'kiln';
import { main } from '../app.mjs';

main(kiln);
