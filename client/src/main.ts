import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { configureApi } from './api/http.js';
import './style.css';

// A server listening beyond loopback wants its token: open the page as /?token=TOKEN once and it is kept for the tab.
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? sessionStorage.getItem('wirelab-token');
if (token) {
  sessionStorage.setItem('wirelab-token', token);
  configureApi({ token });
}

createApp(App).use(createPinia()).mount('#app');
